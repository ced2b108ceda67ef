"""WTForms forms by audience: shape checks only (required, lengths, formats); rules that need
the database live in the services.

common (translations, bases, shared checks), search (public search and the API), auth (login,
own password), admin (accounts, agencies, lĩnh vực, settings, dictionary), editor (the procedure
editor and workflow steps).
"""
