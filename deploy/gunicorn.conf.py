"""gunicorn settings for the portal, behind nginx (deploy/nginx.conf):

    gunicorn -c deploy/gunicorn.conf.py 'app:create_app()'

TTHC_BIND and TTHC_WORKERS override the address and the number of workers.
"""

import multiprocessing
import os

bind = os.environ.get("TTHC_BIND", "127.0.0.1:8000")
# Sync workers: nginx buffers slow clients, so a worker is only busy while the app works. Each
# holds about 150 MB with the real catalogue (see the README): lower this on a small machine.
workers = int(os.environ.get("TTHC_WORKERS", 2 * multiprocessing.cpu_count() + 1))
worker_class = "sync"
# No request should take long: booklets are built in the background (services/booklets.py).
timeout = 30
graceful_timeout = 30
keepalive = 2
# Recycle workers now and then, staggered, so no slow growth of memory lasts.
max_requests = 2000
max_requests_jitter = 200
# The heartbeat file in memory, not on a disk that may stall.
worker_tmp_dir = "/dev/shm"
# Only nginx on this machine may set X-Forwarded-* (the app trusts TRUSTED_PROXIES=1 of them).
forwarded_allow_ips = "127.0.0.1"
# The app is not preloaded: create_app opens the database and the search index (it drains
# pending index writes) and the app starts background threads; none of that may be shared
# across a fork. Its modules are (on_starting): see below.
preload_app = False
accesslog = "-"
errorlog = "-"


def on_starting(server):
    """Import the portal's modules in the master, before any worker is forked: Python, Flask,
    SQLAlchemy, numpy, WeasyPrint and the portal's own code (about 100 MB) are then one copy
    the workers share, copy-on-write, instead of one each, and a worker that replaces another
    (max_requests) starts sooner. Only modules: no app, database connection, thread or model
    exists before the fork (the embedding model is loaded in each worker; its weights are a
    mapped file the workers share anyway). Frozen, the garbage collector never writes to
    those objects, so their pages stay shared."""
    import gc

    import app  # noqa: F401  (imported for its modules)

    gc.collect()
    gc.freeze()


def post_worker_init(worker):
    """The app is built: move what start-up made (modules, the app, the index's metadata) out of
    the garbage collector's reach, and let the young generations grow larger before a pass.
    A full pass over a worker's objects paused it for about 234 ms once per about 400 requests;
    frozen objects are never walked again (the search warm-up freezes what it adds the same
    way, services/search/recovery.py). TTHC_GC_THRESHOLD overrides the thresholds."""
    import gc

    gc.collect()
    gc.freeze()
    thresholds = os.environ.get("TTHC_GC_THRESHOLD", "50000,20,100")
    gc.set_threshold(*(int(n) for n in thresholds.split(",")))
