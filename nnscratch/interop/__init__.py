"""Models leaving nnscratch and weights coming in: ONNX export (``onnx_export``), Keras HDF5 weights
(``keras_weights``). Each needs only its optional extra when used."""
