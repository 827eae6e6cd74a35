"""nbgrader's collect, refusing a submission whose file is not owned by the learner it names.

nbgrader's exchange names each submission ``<learner>+<assignment>+<time>+<random>``,
and the learner part is whatever the submitting process says (nbgrader reads it from
``$JUPYTERHUB_USER``), so on a shared hub one learner can submit under another's name.
nbgrader's own collect only logs a warning then (``CollectApp.check_owner``) and takes
the forged file as that learner's newest submission. On the hub every learner is a Unix
account and owns what they submit, so this collect keeps only the files their named
learner owns, before nbgrader picks each learner's newest (or last on-time) submission,
and names every forged one in an error. hub/course_hub.py configures it for the
instructor (``ExchangeFactory.collect``); tests/test_hub.py proves it.
"""

from __future__ import annotations

import glob
import os
import pwd

from nbgrader.exchange.default.collect import ExchangeCollect


class OwnerCheckedCollect(ExchangeCollect):
    """``nbgrader collect`` that ignores submissions made under another learner's name."""

    def init_src(self):
        # nbgrader's init_src globs the inbound folder and picks each learner's submission
        # in one method; the forged files must go before the pick, so the glob is kept
        # here and nbgrader's pick runs on what is left.
        super().init_src()  # the inbound folder's checks and the due date
        genuine = []
        for record in self._all_records():
            owner = _owner(os.path.join(self.inbound_path, record["filename"]))
            if owner == record["username"]:
                genuine.append(record)
            else:
                self.log.error("ignored %s: it claims to be %s's submission but is owned by %s",
                               record["filename"], record["username"], owner)
        by_learner: dict[str, list[dict]] = {}
        for record in genuine:
            by_learner.setdefault(record["username"], []).append(record)
        self.src_records = [self._pick(records) for _, records in sorted(by_learner.items())]

    def _all_records(self) -> list[dict]:
        student = self.coursedir.student_id or "*"
        pattern = os.path.join(self.inbound_path, f"{student}+{self.coursedir.assignment_id}+*")
        return [self._path_to_record(path) for path in glob.glob(pattern)]

    def _pick(self, records: list[dict]) -> dict:
        """nbgrader's rule: the newest, or with a due date the newest made before it."""
        ordered = self._sort_by_timestamp(records)
        if self.duedate is not None and self.before_duedate:
            on_time = [r for r in ordered if r["timestamp"] <= self.duedate]
            return (on_time or ordered)[0]
        return ordered[0]


def _owner(path: str) -> str | None:
    try:
        return pwd.getpwuid(os.stat(path).st_uid).pw_name
    except KeyError:
        return None
