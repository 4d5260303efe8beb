"""`lakeml studio`: a local web app for the pipelines, the model registry, the endpoint and the lake.

The local counterpart of SageMaker Studio's pipeline graphs and model registry approval workflow: one
Starlette app (`app.create_app`) on 127.0.0.1, server-rendered pages whose templates and assets ship in
this package. It sits in the app layer beside the CLI: it reads everything through the ports the wiring
hands it, so LAKEML_ENV=aws shows SageMaker and the S3 lake.
"""
