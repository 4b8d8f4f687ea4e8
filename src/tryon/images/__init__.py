"""Customer and product images: intake (validation, normalisation, cropping) and storage models."""
