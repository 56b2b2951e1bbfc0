"""The gateway's promises beyond routing: token lifetimes (:mod:`.tokens`), rate limits
(:mod:`.limits`) and the audit trail (:mod:`.audit`). See ``api/README.md``."""
