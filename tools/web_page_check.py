#!/usr/bin/env python3
"""The web page of `zipar serve` in a real headless Chromium (issue 22; run by .ci/run).

    python3 tools/web_page_check.py [--zipar .build/release/zipar] [--chromium /usr/bin/chromium]
                                    [--chromedriver /usr/bin/chromedriver]

Needs Debian's chromium and chromium-driver and the `selenium` package. It starts `zipar serve` on the
embedded glyph model, opens http://HOST:PORT/ and checks, one PASS/FAIL line each: the page loads and names
the model; submitting "Q" with the zipar schedule shows partial images and the wavefront as passes come, and
the final image appears (the page's state turns "done", its <img> holds the job's PNG at the model's size);
the first partial image comes within 0.5 s of submitting (the page measures it); the page's pass count is the
job's; with --api-key on the server the page works once the key is typed in. Exits 1 when any check fails.
"""
import argparse
import json
import sys
import urllib.request

from serve_harness import Results, Server

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:
    sys.exit("web_page_check: the selenium package is missing (pip install selenium)")


def browser(chromium, chromedriver):
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,900"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)


def generate(driver, url, results, label, key=None):
    """Opens the page, submits `label`, waits for the final image; the page's dataset afterwards."""
    driver.get(url + "/")
    if key:  # the page lists the model once the key is typed in (and the field left)
        driver.find_element(By.ID, "key").send_keys(key + "\t")
    WebDriverWait(driver, 30).until(lambda d: "zipar-glyphs" in d.find_element(By.ID, "model").text)
    results.check(f"{label}: the page loads and names the model", True, driver.find_element(By.ID, "model").text)
    prompt = driver.find_element(By.ID, "prompt")
    prompt.clear()
    prompt.send_keys("Q")
    Select(driver.find_element(By.ID, "schedule")).select_by_visible_text("zipar")
    seed = driver.find_element(By.ID, "seed")
    seed.clear()
    seed.send_keys("4")
    driver.find_element(By.ID, "generate").click()
    WebDriverWait(driver, 60).until(lambda d: d.execute_script("return document.body.dataset.state") in ("done", "failed"))
    return driver.execute_script("""
        const img = document.getElementById('image'), d = document.body.dataset;
        return {state: d.state, passes: Number(d.passes), firstPartialMs: Number(d.firstPartialMs),
                width: img.naturalWidth, height: img.naturalHeight, status: document.getElementById('status').textContent,
                error: document.getElementById('error').textContent,
                wavefront: document.getElementById('wavefront').getContext('2d').getImageData(0, 0, 288, 288).data.some((v, i) => i % 4 == 0 && v == 0x55)};
    """)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zipar", default=".build/release/zipar")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = parser.parse_args()
    results = Results()
    servers = []
    driver = browser(args.chromium, args.chromedriver)
    try:
        open_server = Server(args.zipar).start()
        servers.append(open_server)
        # Warm the model up once, as a server that has served would be.
        request = urllib.request.Request(open_server.url + "/v1/images/generations", data=json.dumps({"prompt": "A"}).encode(),
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=60).read()
        page = generate(driver, open_server.url, results, "no key")
        results.check("no key: the final image appears", page["state"] == "done" and (page["width"], page["height"]) == open_server.size,
                      f"state {page['state']}, image {page['width']}x{page['height']}, {page['status']} {page['error']}")
        results.check("no key: partial images and the wavefront came pass by pass",
                      page["firstPartialMs"] > 0 and page["passes"] > 1 and page["wavefront"],
                      f"{page['passes']} passes, first partial after {page['firstPartialMs']} ms")
        results.check("no key: the first partial image within 0.5 s of submitting", 0 < page["firstPartialMs"] <= 500,
                      f"{page['firstPartialMs']} ms")
        results.check("no key: the page's passes are the job's (zipar, window 6: fewer than 144 tokens)",
                      f"{page['passes']} passes for 144 tokens" in page["status"] and page["passes"] < 144, page["status"])
        keyed = Server(args.zipar, "--api-key", "secret").start()
        servers.append(keyed)
        page = generate(driver, keyed.url, results, "--api-key", key="secret")
        results.check("--api-key: with the key typed in, the final image appears", page["state"] == "done",
                      f"state {page['state']}, {page['status']} {page['error']}")
    finally:
        driver.quit()
        for server in servers:
            server.stop()
    print(f"web-page: {results.passed} passed, {results.failed} failed")
    return 1 if results.failed else 0


if __name__ == "__main__":
    sys.exit(main())
