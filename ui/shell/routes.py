"""The server's own routes beside Streamlit's, for large maps (vae/large_maps/served.py):

    /large-maps/buffer/NAME.bin        a content-named binary buffer, cached by the browser
                                       for good (its name changes when its content does)
    /large-maps/image/MAP/ROWS.png     the images of one row ("12") or a few ("12,40,7") of a
                                       large map, as one PNG (the hover panel's pictures)

No Streamlit component is declared here: the server imports this module before its runtime."""

from __future__ import annotations

import numpy as np
import torch
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from vae.large_maps.served import buffer_file, images_of
from vae.pictures import grid_picture, picture, png_bytes

_FOREVER = {"Cache-Control": "public, max-age=31536000, immutable"}


def _buffer(request: Request) -> Response:
    path = buffer_file(request.path_params["name"])
    if path is None:
        return PlainTextResponse("no such buffer", status_code=404)
    return FileResponse(path, media_type="application/octet-stream", headers=_FOREVER)


def _images(request: Request) -> Response:
    images = images_of(request.path_params["map_id"], request.path_params["rows"])
    if images is None:
        return PlainTextResponse("no such image", status_code=404)
    shown = (
        picture(images[0], 128)
        if len(images) == 1
        else grid_picture(torch.as_tensor(np.asarray(images)), ncols=4, target=48)
    )
    return Response(png_bytes(shown), media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


ROUTES = [
    Route("/large-maps/buffer/{name}", _buffer, methods=["GET"]),
    Route("/large-maps/image/{map_id}/{rows}.png", _images, methods=["GET"]),
]
