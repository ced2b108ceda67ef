"""The staff area's use cases: procedures and their workflow (procedures.py), revisions, diffs
and the activity stream (history.py), agencies, lĩnh vực and site settings for admins
(admin.py). Accounts and access rules are in services/accounts.py, uploads in
services/uploads.py."""
