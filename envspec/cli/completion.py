"""Shell completion scripts for bash, zsh and fish, generated from the CLI's own parser data.

Pure: :func:`parser_commands` reads the commands and their options from the CLI's own argparse
parser (so the completion can never list an option that does not exist), and
:func:`completion_script` turns them into the script text to print.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import NamedTuple

__all__ = ["SHELLS", "Command", "completion_script", "parser_commands"]

SHELLS = ("bash", "zsh", "fish")


class Command(NamedTuple):
    name: str
    summary: str
    options: Sequence[tuple[str, str]]
    """(flag, help) pairs, long and short flags alike."""


def parser_commands(parser: argparse.ArgumentParser) -> tuple[list[Command], list[str]]:
    """Every subcommand of ``parser`` with its summary and options, and the global options."""
    commands = []
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        if not isinstance(action, argparse._SubParsersAction):
            continue
        summaries = {choice.dest: choice.help or "" for choice in action._choices_actions}
        for name, sub in action.choices.items():
            options = [
                (flag, option.help or "")
                for option in sub._actions
                for flag in option.option_strings
            ]
            commands.append(Command(name, summaries.get(name, ""), options))
    global_options = [flag for option in parser._actions for flag in option.option_strings]
    return commands, global_options


def completion_script(shell: str, commands: Sequence[Command], global_options: Sequence[str]) -> str:
    if shell == "fish":
        return _fish(commands)
    bash = _bash(commands, global_options)
    if shell == "zsh":
        # zsh runs bash completion functions through bashcompinit: one script, both shells
        return "autoload -U +X bashcompinit && bashcompinit\n" + bash
    return bash


def _bash(commands: Sequence[Command], global_options: Sequence[str]) -> str:
    names = " ".join(c.name for c in commands)
    cases = "\n".join(
        f"    {c.name}) opts=\"{' '.join(flag for flag, _ in c.options)}\" ;;" for c in commands
    )
    return f"""# envspec completion for bash (eval "$(envspec completion bash)")
_envspec() {{
  local cur="${{COMP_WORDS[COMP_CWORD]}}" command="" opts="" word
  for word in "${{COMP_WORDS[@]:1:COMP_CWORD-1}}"; do
    case "$word" in -*) ;; *) command="$word"; break ;; esac
  done
  if [ -z "$command" ]; then
    COMPREPLY=( $(compgen -W "{names} {' '.join(global_options)}" -- "$cur") )
    return
  fi
  case "$command" in
{cases}
  esac
  COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
}}
complete -o default -F _envspec envspec
"""


def _fish_quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def _fish(commands: Sequence[Command]) -> str:
    names = " ".join(c.name for c in commands)
    lines = [
        "# envspec completion for fish (envspec completion fish | source)",
        "complete -c envspec -f",
    ]
    for command in commands:
        lines.append(
            f"complete -c envspec -n 'not __fish_seen_subcommand_from {names}' "
            f"-a {command.name} -d {_fish_quote(command.summary)}"
        )
        for flag, text in command.options:
            kind = "-l " + flag[2:] if flag.startswith("--") else "-s " + flag[1:]
            lines.append(
                f"complete -c envspec -n '__fish_seen_subcommand_from {command.name}' "
                f"{kind} -d {_fish_quote(text)}"
            )
    return "\n".join(lines) + "\n"
