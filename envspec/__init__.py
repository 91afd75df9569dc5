"""envspec: one committed spec, one PEP 751 lock, one exact venv per project.

Imports go one way, down the tiers, and ``tests/unit/test_architecture.py`` holds the table::

    envspec/
      # ── foundation: every tier may import it ──────────────────────────────────────────────────
      errors.py      the error hierarchy; each error carries its exit code (0–4)
      fsutil.py      atomic writes (git-ignored temporaries in the project), the cache root, one hasher
      values/        what every tier speaks of: files (an index's file, a project's files, metadata),
                     target (one interpreter's markers and tags), environments (the Pythons × platforms
                     a lock covers, without an interpreter), urls (credentials kept out, redaction)
      # ── core: pure logic, no network, no process ────────────────────────────────────────────
      spec/          the spec: model, load (envspec.toml), pyproject, schema (the JSON Schema is the
                     authority), parse, rules, edit (add/remove in place), tomltext (one scanner)
      lock/          the PEP 751 lock: model (inputs), freshness, tool ([tool.envspec], its one
                     reader), text (TOML in and out), universal (one lock for every environment),
                     markers (short markers for a set of environments), select (a machine's share),
                     graph (tree, why), export, memo (the freshness memo)
      resolve/       resolvelib over a PackageSource seam: finder, provider, preferences, select,
                     universal (every covered environment, shared where the answers agree), explain
      plan.py        the diff of a venv against the lock's selection
      drift.py       what check found, as text and JSON
      # ── edges: the outside world ────────────────────────────────────────────────────────────
      index/         the one HTTP client: PEP 691/503 pages, PEP 658 metadata, Range reads,
                     downloads, the HTTP cache; IndexSource implements PackageSource
      pythons/       interpreters: discover, probe (a stdlib-only script), runner (the one way to run
                     a process), lifecycle (which minors upstream supports)
      sources/       [sources] and direct URLs (materialise), PEP 517 builds (pep517/, builds),
                     wheels obtained for an install: downloaded or built, verified
      venv/          one venv: layout, create, state, mutex, installed, record, dist_info, journal;
                     installers (the Protocol and pypa installer), linked + unpacked (the cache
                     installer), placement + confine (nothing lands outside), linking (clone,
                     hardlink, copy), uninstall, apply (the plan), verify, integrity, prune
      # ── commands: one module per command family, over one session pipeline ─────────────────
      commands/      project (finding and loading), session (indexes + builds + resolve + install),
                     init, lock (lock, lock --check, add/remove), sync (and run), check, show (tree,
                     why, export, python)
      # ── cli: argv in, text out ──────────────────────────────────────────────────────────────
      cli/           main (errors → exit codes), parser, handlers, render, completion

The foundation and the core never touch the network or spawn a process; only ``cli`` prints.

This module stays tiny: ``envspec --version`` and the no-op sync import it, so it must not
pull in anything heavy.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
