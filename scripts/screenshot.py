"""Screenshot of the web page for the README: docs/screenshot.png.

    .venv/bin/python scripts/screenshot.py [--home HOME] [--shared DIR] [--query Q] [--out docs/screenshot.png]

Serves HOME (a corpus home) or, without --home, the shared gold records with the
seeds' texts in memory (hybrid search with multilingual e5), opens the page in
headless Debian chromium (/usr/bin/chromium + chromedriver, nothing downloaded),
types the query and saves the window.
"""
from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kehoach.eval.data import add_shared_argument  # noqa: E402


def backend_from_gold(shared: Path):
    from kehoach.corpus.embed import get_embedder
    from kehoach.search.fixtures import load_records
    from kehoach.search.hybrid import SearchIndex, docs_from_extractions
    from kehoach.search.server import MemoryBackend
    records = load_records(sorted((shared / "eval" / "gold").glob("*.json")), shared / "seeds")
    exs = {i: ex for i, (ex, _) in enumerate(records, 1)}
    texts = {i: t for i, (_, t) in enumerate(records, 1)}
    return MemoryBackend(SearchIndex.build(docs_from_extractions(exs.items()), embedder=get_embedder("e5")),
                         exs, texts)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--home")
    ap.add_argument("--query", default="ai chủ trì thanh toán trực tuyến?")
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshot.png"))
    add_shared_argument(ap)
    args = ap.parse_args()
    import uvicorn
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
    from kehoach.search.server import CorpusBackend, create_app

    backend = CorpusBackend(Path(args.home)) if args.home else backend_from_gold(args.shared)
    backend.index()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(backend), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--window-size=1280,1000", "--lang=vi",
              "--hide-scrollbars"):
        opts.add_argument(a)
    drv = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    try:
        drv.get(f"http://127.0.0.1:{port}/")
        wait = WebDriverWait(drv, 30)
        drv.find_element(By.ID, "q").send_keys(args.query)
        drv.find_element(By.ID, "go").click()
        wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#hits .hit")))
        time.sleep(0.3)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        drv.save_screenshot(args.out)
    finally:
        drv.quit()
        server.should_exit = True
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
