"""How ``make test``'s two pytest-xdist workers (``-n 2 --dist loadgroup``) share the suite.

While one worker waits on a single-threaded step (Snakemake's parse, a dry run, TensorFlow's
training, a unit test) the other uses the second core: run alone, the suite kept the two cores
only 71 % busy. A worker takes a group whole, so that nothing is built twice:

- every module that reads the ``tiny_run`` session fixture or one built on it
  (``extended_run``): one tiny run per session, and the runs that copy or extend it after it;
- otherwise one module: its module-scoped fixtures (a workflow run) built once.

xdist's own ``loadgroup`` reads ``xdist_group`` marks by renaming node ids, which pytest 9 no
longer allows, so the groups come from this scheduler, and by module text (the controller
collects no tests): a module that names one of :data:`TINY_FIXTURES` is in its group. The tiny group goes
first (the longest chain), then a module that would start work in the background when run
without xdist (tests/test_slurm.py: minutes of waiting on SLURM, beside the tiny group), then
the modules with slow tests, then the quick ones, which fill the end.
"""

from __future__ import annotations

from pathlib import Path

from xdist.scheduler import LoadScopeScheduling

TINY_GROUP = "tiny_run"
#: the session fixtures of conftest.py that are (or copy) the tiny run
TINY_FIXTURES = ("tiny_run", "extended_run")


class ModuleGroups:
    """The pytest plugin: under ``-n N`` (``--dist load`` or ``loadgroup``), :class:`GroupScheduling`."""

    def __init__(self, rootpath: Path) -> None:
        self.rootpath = rootpath

    def pytest_xdist_make_scheduler(self, config, log):
        # plain `-n N` (dist "load") too: split by test, it would build the tiny run, each
        # module's workflow run and tests/test_slurm.py's one cluster in several workers
        if config.getvalue("dist") not in ("load", "loadgroup"):
            return None
        return GroupScheduling(config, log, self.rootpath)


class GroupScheduling(LoadScopeScheduling):
    def __init__(self, config, log, rootpath: Path) -> None:
        super().__init__(config, log)
        self.rootpath = rootpath
        self._ranked = False
        self._texts: dict[str, str] = {}

    def _module_text(self, module: str) -> str:
        if module not in self._texts:
            path = self.rootpath / module
            self._texts[module] = path.read_text() if path.is_file() else ""
        return self._texts[module]

    def _split_scope(self, nodeid: str) -> str:
        module = nodeid.split("::", 1)[0]
        text = self._module_text(module)
        return TINY_GROUP if any(name in text for name in TINY_FIXTURES) else module

    def _rank(self, scope: str) -> int:
        if scope == TINY_GROUP:
            return 0
        text = self._module_text(scope)
        if "def start_in_background" in text:
            return 1  # mostly waiting (SLURM's job start-ups and polls): beside the tiny group
        return 2 if "mark.slow" in text else 3

    def _assign_work_unit(self, node) -> None:
        if not self._ranked:  # once the queue is built: ranked, stable (by test count within a rank)
            ranked = sorted(self.workqueue.items(), key=lambda item: self._rank(item[0]))
            self.workqueue.clear()
            self.workqueue.update(ranked)
            self._ranked = True
        super()._assign_work_unit(node)
