"""The portal's code, one module per subject.

Rules (see ../shared/CONVENTIONS.md): views translate HTTP and call one service; services own
every change and commit at most once, at the end of a public use case; helpers only flush;
forms check shape only; models hold data; the search index follows the database; text is stored
NFC and compared diacritic-folded.
"""
