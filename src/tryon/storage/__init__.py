"""Blob storage over obstore (a local folder by default, any obstore URL such as s3:// later)."""
