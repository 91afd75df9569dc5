"""One module per command family, each returning result values and never printing (``cli`` renders
them): :mod:`~envspec.commands.project` (the spec found and loaded, the lock read: the loaders every
command shares), :mod:`~envspec.commands.init`, :mod:`~envspec.commands.lock` (lock, lock --check,
add/remove), :mod:`~envspec.commands.sync` (sync, its no-op check, run),
:mod:`~envspec.commands.check`, :mod:`~envspec.commands.show` (python, tree, why, export), all over
the one install pipeline of :mod:`~envspec.commands.session`.

Nothing is imported here: the no-op ``sync`` imports only the modules it needs.
"""

from __future__ import annotations

__all__: list[str] = []
