"""The staff area's use cases: the working copy of a procedure, the workflow that publishes it,
revisions and diffs, and the admin pages' agencies, lĩnh vực, settings and dictionary."""
