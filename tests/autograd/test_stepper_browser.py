"""Open a saved stepper page in real headless Chromium (Debian's) and step through it."""
import os

from autograd import Value, step_through
from autograd.render import fmt, walk

CHROMIUM = "/usr/bin/chromium"


def launch(p):
    assert os.access(CHROMIUM, os.X_OK), (
        "the stepper's browser test needs Debian's chromium: `sudo apt-get install chromium` "
        "(`make test` installs it)")
    return p.chromium.launch(executable_path=CHROMIUM,
                             args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])


def graph():
    """y = tanh(a*a + b*c) + b: `a` feeds one node twice, `b` feeds two nodes."""
    a, b, c = Value(0.5, label="a"), Value(-1.5, label="b"), Value(2.0, label="c")
    s = a * a + b * c
    s.label = "s"
    y = s.tanh() + b
    y.label = "y"
    return y


def texts_of(page, uid, node):
    return page.eval_on_selector(
        f"#{uid}-{node}", "g => Array.from(g.querySelectorAll('text')).map(t => t.textContent)")


def test_pressing_next_walks_every_step(tmp_path):
    from playwright.sync_api import sync_playwright
    y = graph()
    stepper = step_through(y)
    steps = stepper.steps
    path = stepper.save(tmp_path / "steps.html")
    order, _ = walk(y)
    leaves = {f"v{i}": v for i, v in enumerate(order) if v._op is None}
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page()
            requests, errors = [], []
            page.on("request", lambda r: requests.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(path.as_uri())
            uid = page.eval_on_selector(".chainrule-stepper", "e => e.id")
            box = page.locator(f"#{uid}")
            formula = page.locator(f"#{uid}-formula")
            assert box.get_attribute("data-pos") == "0"
            assert page.locator(f"#{uid} .cr-cur").count() == 0
            # Before the forward pass, interior nodes have no value and nobody has a grad.
            assert texts_of(page, uid, "v0")[-2:] == ["data ?", "grad 0"]
            grads = {}
            for k, step in enumerate(steps, start=1):
                if k % 2:
                    page.click(f"#{uid}-next")
                else:
                    box.focus()
                    page.keyboard.press("ArrowRight")
                assert box.get_attribute("data-pos") == str(k)
                current = page.locator(f"#{uid} g.node.cr-cur")
                assert current.count() == 1
                assert current.get_attribute("id") == f"{uid}-{step['node']}"
                assert formula.text_content() == step["text"]
                shown = texts_of(page, uid, step["node"])
                if step["phase"] == "forward":
                    assert shown[-2] == f"data {fmt(step['value'])}"
                    assert shown[-1] == "grad 0"
                else:
                    assert shown[-1] == f"grad {fmt(step['grad'])}"
                    grads[step["node"]] = step["grad"]
                if "edge" in step:
                    edge = page.locator(f"#{uid} g.edge.cr-edge")
                    assert edge.count() == 1 and edge.get_attribute("id") == f"{uid}-{step['edge']}"
            assert page.is_disabled(f"#{uid}-next")
            y.backward()
            for node, leaf in leaves.items():
                assert texts_of(page, uid, node)[-1] == f"grad {fmt(leaf.grad)}", node
                assert fmt(grads[node]) == fmt(leaf.grad)
            # back one step with the left arrow, and the slider jumps anywhere
            box.focus()
            page.keyboard.press("ArrowLeft")
            assert box.get_attribute("data-pos") == str(len(steps) - 1)
            page.fill(f"#{uid}-slider", "0")
            page.dispatch_event(f"#{uid}-slider", "input")
            assert box.get_attribute("data-pos") == "0"
            assert errors == []
            assert requests and all(u.startswith(("file:", "data:")) for u in requests), requests
        finally:
            browser.close()


def test_two_steppers_on_one_page_do_not_interfere(tmp_path):
    from playwright.sync_api import sync_playwright
    s1, s2 = step_through(graph()), step_through(graph())
    page_path = tmp_path / "two.html"
    page_path.write_text("<!DOCTYPE html><meta charset='utf-8'><body>" + s1._repr_html_()
                         + s2._repr_html_() + "</body>", encoding="utf-8")
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page()
            page.goto(page_path.as_uri())
            first, second = page.eval_on_selector_all(".chainrule-stepper", "es => es.map(e => e.id)")
            assert first != second
            for _ in range(3):
                page.click(f"#{second}-next")
            page.locator(f"#{first}").focus()
            page.keyboard.press("ArrowRight")
            assert page.get_attribute(f"#{first}", "data-pos") == "1"
            assert page.get_attribute(f"#{second}", "data-pos") == "3"
            assert page.text_content(f"#{second}-formula") == s2.steps[2]["text"]
        finally:
            browser.close()
