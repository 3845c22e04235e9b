import io
import math
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings, strategies as st
from PIL import Image

from nn import MLP
from nn.live import LiveView
from nn.live.figure import COLORS, PLOT_H, PLOT_W, RED, ROW, FramePlot, _pastel, _rgb, ticks

from .training_loop import digits, moons

ROOT = Path(__file__).resolve().parents[2]


def started(model, data, total_steps=100, losses=(), curves=None):
    """A view after on_start, with batch losses and recorded points as the live view keeps them."""
    (Xtr, ytr), (Xte, yte) = data
    view = LiveView(show=False)
    view.on_start(model, Xtr, ytr, Xte, yte, total_steps=total_steps)
    view.losses = list(losses)
    view.curves = dict(curves or {})
    return view


def draw(view, step=0):
    plot = FramePlot(view)
    data = plot.png(view.frame(step), "live view: frame 1 · step 0 · train acc – · 0 dead")
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == "PNG"
    return plot, image.convert("RGB")


def panel(plot, image, i):
    left, top = plot.boxes[i]
    return image.crop((left, top, left + PLOT_W, top + PLOT_H))


def pixels(image):
    data = image.tobytes()
    return list(zip(data[0::3], data[1::3], data[2::3]))


def commonest(image):
    return max(image.getcolors(image.width * image.height))[1]


def near(a, b, tolerance=6):
    return all(abs(x - y) <= tolerance for x, y in zip(a, b))


def falling(n):
    return [1.0 / (1 + 0.05 * s) for s in range(1, n + 1)]


def points(n, every):
    return {s: (1.0 / (1 + 0.05 * s), 1.1 / (1 + 0.05 * s), 0.5 + s / (4 * n or 1), 0.45 + s / (4 * n or 1))
            for s in range(0, n + 1, every)}


# -- the picture ----------------------------------------------------------------------------
def test_png_decodes_to_the_figure_size_three_panels_for_2d_inputs_two_otherwise():
    plot, image = draw(started(MLP(2, [8, 8, 1], seed=0), moons(), 40, falling(40), points(40, 5)), 40)
    assert image.size == plot.size and len(plot.boxes) == 3
    flat, flat_image = draw(started(MLP(64, [16, 10], seed=0), digits(200), 40, falling(40), points(40, 5)), 40)
    assert flat_image.size == flat.size and len(flat.boxes) == 2
    assert flat.size[0] < plot.size[0]                       # no boundary panel
    assert flat.size[1] < plot.size[1]                       # a layer fewer in the table


def test_drawing_a_frame_imports_pillow_not_matplotlib():
    script = (
        "import sys\n"
        "from nn import MLP\n"
        "from nn.data import make_moons, train_test_split\n"
        "from nn.live import LiveView\n"
        "from nn.live.figure import FramePlot\n"
        "(X, y), (Xt, yt) = train_test_split(*make_moons(100, noise=0.1, seed=0), 0.2, seed=0)\n"
        "view = LiveView(show=False)\n"
        "view.on_start(MLP(2, [8, 1], seed=0), X, y, Xt, yt, total_steps=10)\n"
        "view.losses = [0.5] * 10\n"
        "png = FramePlot(view).png(view.frame(10), 'title')\n"
        "print(png[:8] == b'\\x89PNG\\r\\n\\x1a\\n', 'PIL' in sys.modules,\n"
        "      sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))\n")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True", "[]"]


def test_boundary_panel_shows_the_predicted_class_in_its_colour():
    colours = {}
    for bias, cls in ((-50.0, 0), (50.0, 1)):
        model = MLP(2, [8, 8, 1], seed=0)
        model.layers[-1].neurons[0].b.data = bias           # P(class 1) ~ 0 or ~ 1 everywhere
        plot, image = draw(started(model, moons()))
        colours[cls] = commonest(panel(plot, image, 2))
        # the deepest shade of the class colour, the training points' colour, over white
        assert near(colours[cls], _pastel(COLORS[cls], 0.5)), (bias, colours[cls])
    assert colours[0] != colours[1]


def test_multiclass_boundary_paints_the_predicted_class():
    (Xtr, ytr), test = moons()
    model = MLP(2, [8, 3], seed=0)
    model.layers[-1].neurons[2].b.data = 50.0               # class 2 wins everywhere
    plot, image = draw(started(model, ((Xtr, [t + y % 2 for t, y in zip(ytr, range(len(ytr)))]),
                                       test)))
    assert near(commonest(panel(plot, image, 2)), _pastel(COLORS[2], 0.35))


def test_boundary_line_is_drawn_where_the_prediction_changes():
    def model(w):  # P(class 1) = sigmoid(w * (x1 - 0.5)): the line x1 = 0.5 when w != 0
        m = MLP(2, [1], seed=0)
        neuron = m.layers[0].neurons[0]
        neuron.w[0].data, neuron.w[1].data, neuron.b.data = w, 0.0, -0.5 * w
        return m

    def dark_columns(plot, image):
        im = panel(plot, image, 2)
        return {x for x in range(im.width)
                if sum(max(im.getpixel((x, y))) < 60 for y in range(im.height)) > PLOT_H * 0.9}

    plot, image = draw(started(model(6.0), moons()))
    x0, x1 = plot.view.bounds[:2]
    line = (0.5 - x0) / (x1 - x0) * PLOT_W
    columns = dark_columns(plot, image)
    assert columns and all(abs(x - line) <= 1.5 for x in columns), (columns, line)
    plot, image = draw(started(model(0.0), moons()))   # P = 0.5 everywhere: no crossing
    assert dark_columns(plot, image) == set()


def test_flagged_layer_row_is_red_and_the_dead_units_are_named():
    def red_pixels(image, y):
        strip = image.crop((0, y, image.width, y + ROW))
        return sum(1 for p in pixels(strip) if near(p, _rgb(RED), 40) and p[0] > p[1] + 60)

    model = MLP(2, [8, 8, 1], seed=2)                        # no dead unit at the start
    healthy_plot, healthy = draw(started(model, moons()))
    assert healthy_plot.view.frame(0)["dead"] == []
    model.layers[0].neurons[3].b.data = -100.0              # a ReLU that never fires
    view = started(model, moons())
    plot, image = draw(view)
    frame = view.frame(0)
    assert frame["layers"][0][6] and "layers.0.neurons.3" in frame["dead"]
    row = plot.table_top + ROW                               # layers.0, below the header
    assert red_pixels(image, row) > 50 and red_pixels(healthy, row) == 0
    below = plot.size[1] - 30                                # the "dead: ..." line
    assert red_pixels(image, below) > 50 and red_pixels(healthy, below) == 0


def test_loss_and_accuracy_curves_are_drawn_when_there_are_some():
    def coloured(im, colour):  # pixels of a curve's colour in the panel's left half (no legend)
        left = im.crop((0, 0, im.width // 2, im.height))
        return sum(1 for p in pixels(left) if near(p, _rgb(colour), 30))

    model = MLP(2, [8, 8, 1], seed=0)
    empty_plot, empty = draw(started(model, moons()))
    batches = [0.6 * v for v in falling(40)]               # apart from the recorded points
    plot, image = draw(started(model, moons(), 40, batches, points(40, 4)), 40)
    for i in (0, 1):
        for colour in (COLORS[0], COLORS[4]):                # train sample and test
            assert coloured(panel(plot, image, i), colour) > 40
            assert coloured(panel(empty_plot, empty, i), colour) == 0
    grey = lambda im: sum(1 for p in pixels(panel(plot, im, 0).crop((0, 0, PLOT_W // 2, PLOT_H)))
                          if near(p, (187, 187, 187), 25))
    assert grey(image) > 40 and grey(empty) == 0            # the batch losses


def test_nan_inf_and_missing_numbers_do_not_break_a_frame():
    losses = [math.nan, math.inf, 0.5, -math.inf, 0.4, math.nan, 0.3, 1e300, 0.2]
    curves = {0: (math.nan, None, 0.5, None), 3: (math.inf, math.nan, math.nan, 0.4),
              6: (0.3, 0.35, 0.7, 0.65), 9: (0.2, 1e308, 0.8, None)}
    plot, image = draw(started(MLP(2, [8, 1], seed=0), moons(), 9, losses, curves), 9)
    assert image.size == plot.size
    plot, image = draw(started(MLP(2, [8, 1], seed=0), moons(), 9, [math.nan] * 9,
                               {0: (math.nan, math.nan, math.nan, math.nan)}), 9)
    assert image.size == plot.size
    for losses in ([1.7e308] * 9, [-2.0] * 9, [0.0] * 9):   # overflow, a negative loss, all 0
        plot, image = draw(started(MLP(2, [8, 1], seed=0), moons(), 9, losses,
                                   {9: (losses[0], losses[0], 0.5, 0.5)}), 9)
        assert image.size == plot.size


def test_a_run_without_total_steps_is_drawn_to_its_last_step():
    view = started(MLP(2, [8, 1], seed=0), moons(), None, falling(36), points(36, 6))
    assert view.total_steps is None
    plot, image = draw(view, 36)
    assert image.size == plot.size
    # the curve reaches the panel's right edge: x runs to the last step taken
    right = panel(plot, image, 0).crop((PLOT_W - 4, 0, PLOT_W, PLOT_H))
    assert any(near(p, _rgb(COLORS[0]), 30) for p in pixels(right))


def test_a_figure_draws_many_frames_of_one_run_at_one_size():
    view = started(MLP(2, [8, 8, 1], seed=0), moons(), 60)
    plot, sizes = FramePlot(view), set()
    for n in (0, 1, 20, 60):
        view.losses, view.curves = falling(n), points(n, 5)
        sizes.add(Image.open(io.BytesIO(plot.png(view.frame(n), f"step {n}"))).size)
    assert sizes == {plot.size}


# -- the parts ------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(st.floats(1e-6, 1e9))
def test_ticks_are_few_round_distinct_and_inside_the_range(hi):
    marks = ticks(0, hi)
    values, labels = [v for v, _ in marks], [t for _, t in marks]
    assert 2 <= len(marks) <= 6
    assert values[0] == 0 and values[-1] <= hi * (1 + 1e-9)
    assert values[-1] > hi / 2                                # the range is used, not a corner
    assert len(set(labels)) == len(labels)
    assert all(abs(float(t) - v) <= 1e-6 * hi for v, t in marks)   # a label says its value
