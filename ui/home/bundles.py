"""Home's "Add a model bundle" panel: a zip of a bundle folder, installed in the models folder."""

from __future__ import annotations

import streamlit as st

from ui.shell import cache
from ui.shell.page import make_current, models_dir, read_only
from vae.bundle.zip_install import install_bundle_zip
from vae.errors import BundleError
from vae.opened import opened_bundle

_ADDED_KEY = "bundle_added"  # what the last install said: shown after the rerun it starts


def _name_from_upload() -> None:
    """A new zip proposes its file name; what the user types then is kept (also after adding)."""
    upload = st.session_state.get("bundle_zip")
    if upload is not None:
        st.session_state["bundle_name"] = upload.name.removesuffix(".zip")


def bundle_upload_panel() -> None:
    added = st.session_state.pop(_ADDED_KEY, None)
    with st.expander("Add a model bundle (a VAE trained anywhere, exported with vae.bundle)", expanded=bool(added)):
        if added:
            st.success(added)
        switch = read_only()
        if switch:
            st.info(f"Adding models from the browser is turned off on this server ({switch}).")
            return
        st.caption(
            "Zip the folder `export_bundle` wrote (manifest.json, encoder.onnx, decoder.onnx, optional "
            "data.npz) and upload it. It is checked before it is added; nothing in it runs as code."
        )
        upload = st.file_uploader("Bundle (zip)", ["zip"], key="bundle_zip", on_change=_name_from_upload)
        name = st.text_input("Name in the model picker", key="bundle_name")
        replace = st.checkbox("Replace a model of the same name", key="bundle_replace")
        if st.button("Add the bundle", key="bundle_add", disabled=upload is None):
            try:
                installed = install_bundle_zip(upload.getvalue(), models_dir(), name.strip() or upload.name, replace)
            except BundleError as err:
                st.error(str(err))
                return
            cache.adopt(opened_bundle(installed))  # checked and opened once, by the install
            make_current(installed.folder.name)
            st.session_state[_ADDED_KEY] = f"Added **{installed.folder.name}**: it is now the current model."
            st.rerun()  # the picker and the card show the new model
