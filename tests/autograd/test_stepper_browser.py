"""Open a saved stepper page in real headless Chromium (Debian's) and step through it."""
from pathlib import Path

from autograd import Value, step_through
from autograd.render import fmt, walk
from tests.chromium import launch



def graph():
    """y = tanh(a*a + b*c) + b: `a` feeds one node twice, `b` feeds two nodes."""
    a, b, c = Value(0.5, label="a"), Value(-1.5, label="b"), Value(2.0, label="c")
    s = a * a + b * c
    s.label = "s"
    y = s.tanh() + b
    y.label = "y"
    return y


def micrograd_example():
    """micrograd's classic expression, as in the README."""
    a, b = Value(-4.0, label="a"), Value(2.0, label="b")
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    return g, a, b


SHOTS = Path(__file__).resolve().parents[2] / "out" / "screenshots"


def smallest_node_text_px(page, uid):
    """The smallest rendered font size (CSS px) of any text in the stepper's graph nodes."""
    return page.evaluate("""uid => Math.min(...Array.from(
        document.querySelectorAll('#' + uid + '-graph g.node text, #' + uid + '-graph g.edge text'))
        .map(t => parseFloat(t.getAttribute('font-size')) * t.getScreenCTM().a))""", uid)


def in_view(page, uid, node):
    """Is the node's box inside the graph's scroll box and the window?"""
    return page.evaluate("""([uid, node]) => {
        const g = document.getElementById(uid + '-graph').getBoundingClientRect();
        const r = document.getElementById(uid + '-' + node).getBoundingClientRect();
        const w = [0, 0, window.innerWidth, window.innerHeight];
        return r.left >= Math.max(g.left, w[0]) - 1 && r.right <= Math.min(g.right, w[2]) + 1 &&
               r.top >= Math.max(g.top, w[1]) - 1 && r.bottom <= Math.min(g.bottom, w[3]) + 1;
    }""", [uid, node])


def open_page(p, path):
    browser = launch(p)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(20_000)
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(Path(path).as_uri())
    uid = page.eval_on_selector(".chainrule-stepper", "e => e.id")
    return browser, page, uid, requests, errors


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
    leaves = {f"n{i}": v for i, v in enumerate(order) if v.is_leaf}
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
            assert texts_of(page, uid, "n0")[-2:] == ["data ?", "grad 0"]
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


def test_saved_page_steps_by_keyboard_at_once_and_keeps_every_node_readable_and_in_view(tmp_path):
    """micrograd's example: arrows work with no click; text never below 10 px; the current
    node scrolled into view at every step; zoom and fit change the scale."""
    from playwright.sync_api import sync_playwright
    g, a, b = micrograd_example()
    stepper = step_through(g)
    path = stepper.save(tmp_path / "micrograd.html")
    with sync_playwright() as p:
        browser, page, uid, requests, errors = open_page(p, path)
        try:
            box = page.locator(f"#{uid}")
            assert page.locator(f"#{uid}-static").count() == 0  # the script replaced the picture
            assert smallest_node_text_px(page, uid) >= 10
            assert box.get_attribute("data-scale") == "1.0000"
            for k, step in enumerate(stepper.steps, start=1):
                page.keyboard.press("ArrowRight")  # nothing was clicked: the page has the keys
                assert box.get_attribute("data-pos") == str(k)
                assert box.get_attribute("data-current") == step["node"]
                assert in_view(page, uid, step["node"]), (k, step["text"])
                if k == 12:
                    page.screenshot(path=SHOTS / "saved_page_micrograd.png")
            assert page.evaluate("() => window.scrollY") == 0  # the page itself never moved
            page.keyboard.press("Home")
            assert box.get_attribute("data-pos") == "0"
            page.click(f"#{uid}-zoomout")
            assert float(box.get_attribute("data-scale")) == 0.8
            page.click(f"#{uid}-zoomin")
            page.click(f"#{uid}-zoomin")
            assert float(box.get_attribute("data-scale")) == 1.25
            assert smallest_node_text_px(page, uid) >= 12.5
            width = page.eval_on_selector(f"#{uid}-graph svg", "s => s.getBoundingClientRect().width")
            page.click(f"#{uid}-fit")
            fitted = float(box.get_attribute("data-scale"))
            assert fitted < 1 and page.get_attribute(f"#{uid}-fit", "aria-pressed") == "true"
            graph = page.eval_on_selector(f"#{uid}-graph", "g => [g.clientWidth, g.scrollWidth]")
            assert graph[1] <= graph[0] + 1  # the whole graph fits across
            assert page.eval_on_selector(f"#{uid}-graph svg", "s => s.getBoundingClientRect().width") < width
            page.screenshot(path=SHOTS / "saved_page_micrograd_fit.png")
            page.click(f"#{uid}-fit")
            assert float(box.get_attribute("data-scale")) == 1.25
            # dragging the picture pans it
            box_ = page.locator(f"#{uid}-graph").bounding_box()
            left = page.eval_on_selector(f"#{uid}-graph", "g => g.scrollLeft")
            page.mouse.move(box_["x"] + 400, box_["y"] + 40)
            page.mouse.down()
            page.mouse.move(box_["x"] + 250, box_["y"] + 40, steps=5)
            page.mouse.up()
            assert page.eval_on_selector(f"#{uid}-graph", "g => g.scrollLeft") == left + 150
            # ctrl + wheel over the graph zooms it (and not the page)
            page.hover(f"#{uid}-graph")
            page.keyboard.down("Control")
            page.mouse.wheel(0, -100)
            page.keyboard.up("Control")
            assert float(box.get_attribute("data-scale")) > 1.25
            assert errors == []
            assert requests and all(u.startswith(("file:", "data:")) for u in requests), requests
        finally:
            browser.close()


def test_quiz_marks_right_and_wrong_answers_and_reveals(tmp_path):
    from playwright.sync_api import sync_playwright
    y = graph()
    stepper = step_through(y, quiz=True)
    path = stepper.save(tmp_path / "quiz.html")
    products = [k for k, s in enumerate(stepper.steps, start=1) if "parent" in s]
    with sync_playwright() as p:
        browser, page, uid, requests, errors = open_page(p, path)
        try:
            box = page.locator(f"#{uid}")
            quiz = page.locator(f"#{uid}-quiz")
            first = products[0]
            for _ in range(first):
                page.keyboard.press("ArrowRight")
            step = stepper.steps[first - 1]
            assert quiz.is_visible()
            assert page.text_content(f"#{uid}-formula") == step["ask"]
            assert texts_of(page, uid, step["node"])[-1] == "grad ?"
            # wrong answers are marked wrong and keep the numbers hidden
            page.fill(f"#{uid}-qlocal", str(step["local"] + 1))
            page.fill(f"#{uid}-qproduct", str(step["product"] * 1.001 + 1e-3))
            page.click(f"#{uid}-check")
            assert page.text_content(f"#{uid}-qlocal-mark") == "✗"
            assert page.text_content(f"#{uid}-qproduct-mark") == "✗"
            assert page.text_content(f"#{uid}-formula") == step["ask"]
            # right answers, typed as the learner would (Enter checks), within 1e-6 relative
            page.fill(f"#{uid}-qlocal", repr(step["local"] * (1 + 5e-7)))
            page.fill(f"#{uid}-qproduct", repr(step["product"]))
            page.press(f"#{uid}-qproduct", "Enter")
            assert page.text_content(f"#{uid}-qlocal-mark") == "✓"
            assert page.text_content(f"#{uid}-qproduct-mark") == "✓"
            assert page.text_content(f"#{uid}-formula") == step["text"]
            assert texts_of(page, uid, step["node"])[-1] == f"grad {step_number(step['grad'])}"
            assert box.get_attribute("data-pos") == str(first)  # typing moved no step
            # the next product: reveal shows the recorded numbers
            page.locator(f"#{uid}-next").click()
            nxt = stepper.steps[first]
            page.click(f"#{uid}-reveal")
            assert float(page.input_value(f"#{uid}-qlocal")) == nxt["local"]
            assert float(page.input_value(f"#{uid}-qproduct")) == nxt["product"]
            assert page.text_content(f"#{uid}-formula") == nxt["text"]
            # back and forth keeps the answers
            page.click(f"#{uid}-prev")
            assert page.text_content(f"#{uid}-qlocal-mark") == "✓"
            page.screenshot(path=SHOTS / "saved_page_quiz.png")
            assert errors == []
            assert all(u.startswith(("file:", "data:")) for u in requests), requests
        finally:
            browser.close()


def step_number(x):
    return f"{x:.10g}"


def test_forward_mode_steps_tangents_from_the_input(tmp_path):
    from playwright.sync_api import sync_playwright
    y = graph()
    b = next(v for v in walk(y)[0] if v.label == "b")
    stepper = step_through(y, mode="forward", wrt=b)
    path = stepper.save(tmp_path / "forward.html")
    with sync_playwright() as p:
        browser, page, uid, requests, errors = open_page(p, path)
        try:
            box = page.locator(f"#{uid}")
            for k, step in enumerate(stepper.steps, start=1):
                page.keyboard.press("ArrowRight")
                assert box.get_attribute("data-current") == step["node"]
                assert page.text_content(f"#{uid}-formula") == step["text"]
                if "tangent" in step:
                    assert texts_of(page, uid, step["node"])[-1] == f"d/db {fmt(step['tangent'])}"
                if "edge" in step and step["phase"] == "tangent":
                    assert page.locator(f"#{uid} g.edge.cr-edge").get_attribute("id") == f"{uid}-{step['edge']}"
            y.backward()
            assert texts_of(page, uid, "n0")[-1] == f"d/db {fmt(b.grad)}"
            page.screenshot(path=SHOTS / "saved_page_forward.png")
            assert errors == []
            assert all(u.startswith(("file:", "data:")) for u in requests), requests
        finally:
            browser.close()
