"""The large map's server side: binary buffers, polygon selection, the spatial index, colours
and the routes that hand buffers and images to the browser."""

from __future__ import annotations

import numpy as np
import pytest
from starlette.requests import Request

from ui.map.canvas_colours import by_label, by_value
from ui.shell.routes import ROUTES
from vae.large_maps import served
from vae.large_maps.buffers import buffer_name, quantise_codes, read_buffer, write_buffer
from vae.large_maps.map_index import MapIndex, typical_spacing
from vae.large_maps.selection import rows_in_polygon


@pytest.mark.parametrize("dtype", ["float32", "uint8", "uint16"])
def test_buffers_round_trip_exactly(tmp_path, dtype):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal((1000, 2)) * 100).astype(dtype)
    path = write_buffer(tmp_path, array)
    back = read_buffer(path, np.dtype(dtype).newbyteorder("<").str, columns=2)
    assert back.dtype == np.dtype(dtype) and np.array_equal(back, array)
    assert path.name == buffer_name(array)  # the same content, the same name
    assert write_buffer(tmp_path, array) == path
    changed = array.copy()
    changed[0, 0] += 1
    assert write_buffer(tmp_path, changed) != path


def test_quantised_codes_are_within_half_a_step():
    rng = np.random.default_rng(1)
    mu = (rng.standard_normal((5000, 16)) * np.r_[[1.0] * 8, [0.01] * 8]).astype(np.float32)
    mu[:, 3] = 2.5  # a constant dimension (a collapsed unit) must not divide by zero
    codes = quantise_codes(mu)
    assert codes.values.dtype == np.uint16 and codes.values.shape == mu.shape
    error = np.abs(codes.decoded() - mu)
    assert (error <= codes.scale / 2 + 1e-6).all()
    assert np.allclose(codes.decoded()[:, 3], 2.5)


def test_polygon_selection_matches_the_exact_shapes():
    rng = np.random.default_rng(2)
    xy = rng.random((200_000, 2)).astype(np.float32)
    square = [[0.1, 0.1], [0.6, 0.1], [0.6, 0.5], [0.1, 0.5]]
    inside = (xy[:, 0] > 0.1) & (xy[:, 0] < 0.6) & (xy[:, 1] > 0.1) & (xy[:, 1] < 0.5)
    assert np.array_equal(rows_in_polygon(xy, square), np.flatnonzero(inside))
    # a triangle, drawn clockwise: the even-odd rule does not care
    triangle = [[0.2, 0.2], [0.5, 0.9], [0.8, 0.2]]
    picked = rows_in_polygon(xy, triangle)
    x, y = xy[picked, 0], xy[picked, 1]
    assert ((y >= 0.2) & (y <= 0.9 + 1e-6)).all() and len(picked) == pytest.approx(0.5 * 0.6 * 0.7 * 200_000, rel=0.03)
    assert (np.abs(x - 0.5) <= (0.9 - y) / 0.7 * 0.3 + 1e-5).all()
    assert len(rows_in_polygon(xy, [[0, 0], [1, 1]])) == 0  # not a polygon
    assert len(rows_in_polygon(xy, [[0, 0], [np.nan, 1], [1, 0]])) == 0


def test_the_index_inverts_to_the_nearest_codes_and_measures_distance():
    rng = np.random.default_rng(3)
    xy = rng.random((20_000, 2)).astype(np.float32)
    mu = rng.standard_normal((20_000, 4)).astype(np.float32)
    index = MapIndex(xy, mu)
    assert np.allclose(index.inverse(xy[7][None])[0], mu[7], atol=1e-4)  # an exact hit is that code
    assert index.distance_to_data(xy[7][None])[0] == pytest.approx(0.0, abs=1e-6)
    assert index.distance_to_data(np.array([[5.0, 5.0]]))[0] > 100
    # uniform points: the median nearest-neighbour distance is about 0.47 / sqrt(density)
    assert typical_spacing(xy) == pytest.approx(0.47 / np.sqrt(20_000), rel=0.15)


def test_colours_by_label_and_by_value():
    labelled = by_label(np.array([0, 2, 2, 1]), ["zero", "one", "two"])
    assert labelled.categorical and list(labelled.index) == [0, 2, 2, 1]
    assert [name for name, _ in labelled.legend] == ["zero", "one", "two"]
    values = np.linspace(0, 1, 1001).astype(np.float32)
    valued = by_value(values, "z0")
    assert not valued.categorical and len(valued.palette) == 256
    assert valued.index[0] == 0 and valued.index[-1] == 255 and (np.diff(valued.index.astype(int)) >= 0).all()


def test_routes_serve_registered_buffers_and_images_only(tmp_path):
    array = np.arange(12, dtype=np.float32)
    path = write_buffer(tmp_path, array)
    served.serve_buffers(tmp_path)
    images = lambda rows: np.stack([np.full((1, 8, 8), r / 10, np.float32) for r in rows])  # noqa: E731
    served.serve_images("test-map", images, count=10)

    def get(url: str):
        for route in ROUTES:
            matched, child = route.matches({"type": "http", "path": url, "method": "GET"})
            if matched.name == "FULL":
                return route.endpoint(Request({"type": "http", "method": "GET", "path": url, **child}))
        raise AssertionError(f"no route for {url}")

    response = get(f"/large-maps/buffer/{path.name}")
    assert response.status_code == 200 and response.path.read_bytes() == array.tobytes()
    assert "immutable" in response.headers["cache-control"]
    assert get("/large-maps/buffer/" + "0" * 24 + ".bin").status_code == 404
    assert get("/large-maps/buffer/secret.npy").status_code == 404
    one = get("/large-maps/image/test-map/3.png")
    assert one.status_code == 200 and one.body[:4] == b"\x89PNG"
    assert get("/large-maps/image/test-map/1,2,3.png").status_code == 200
    assert get("/large-maps/image/test-map/10.png").status_code == 404  # past the map's rows
    assert get("/large-maps/image/other-map/1.png").status_code == 404
    assert get("/large-maps/image/test-map/" + ",".join(["1"] * 17) + ".png").status_code == 404


def test_class_names_follow_the_colour_index_with_classes_missing():
    labelled = by_label(np.array([0, 2, 3, 3]), ["a", "b", "c", "d"])
    assert [name for name, _ in labelled.legend] == ["a", "c", "d"]
    assert [labelled.names[i] for i in labelled.index] == ["a", "c", "d", "d"]  # what hover says
    assert not by_label(np.array([1, 300]), []).categorical  # past the palette: coloured as values


def test_map_ids_are_route_safe_for_any_model_name():
    first, second = served.map_id_for("vae (1)-abc", "pca"), served.map_id_for("vae_1_-abc", "pca")
    assert served.MAP_ID.match(first) and served.MAP_ID.match(served.map_id_for("modèle", "umap"))
    assert first != second  # made safe, yet distinct
    served.serve_images(first, lambda rows: np.zeros((len(rows), 1, 4, 4), np.float32), 3)
    assert served.images_of(first, "2") is not None
