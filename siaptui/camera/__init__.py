"""The worker's photo: cameras, face checks and the ISO/IEC 19794-5 token image (no Textual).

`siaptui.camera.registry.open_camera(spec)` turns a camera spec into a `Camera`;
`siaptui.camera.face.analyse(frame)` measures the checks the preview's guidance is built from;
`siaptui.camera.token.token_image(frame, analysis)` crops, scales and encodes the JPEG kept with
the enrollment.  OpenCV (the `siaptui[camera]` extra) is imported only for real webcams.
"""
