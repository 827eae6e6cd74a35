"""The course's grading glue on top of nbgrader: releasing exercises and feedback."""
