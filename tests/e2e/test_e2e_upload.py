"""``POST /images/upload``: accepted inputs, the stored result, and every refusal."""

from __future__ import annotations

import io

from e2e_helpers import (
    accepted,
    assert_error,
    blob_files,
    check_each,
    decode,
    fetch_jpeg,
    make_image,
    make_jpeg,
    make_png,
    sample_bytes,
    shared_file,
    start_try_on,
    upload,
    wait_for,
)
from PIL import Image


def post_file(client, data: bytes, name: str = "photo.jpg", mime: str = "image/jpeg", **fields):  # type: ignore[no-untyped-def]
    return client.post("/images/upload", files={"file": (name, data, mime)}, data=fields)


def test_upload_returns_an_id_and_a_signed_url_of_a_clean_jpeg(shop) -> None:
    body = upload(shop.live, make_jpeg(256, 320))
    assert body["imageId"] and "/" not in body["imageUrl"].split("?")[1]
    assert "/tryon/v1/files/" in body["imageUrl"]
    assert "signature=" in body["imageUrl"] and "expires=" in body["imageUrl"]
    image = decode(fetch_jpeg(body["imageUrl"]))
    assert image.size == (256, 320)
    assert image.mode == "RGB"
    assert not image.getexif()
    # The id is usable right away in a try-on.
    generation = wait_for(shop.live, accepted(start_try_on(shop.live, body["imageId"])))
    assert generation["status"] == "COMPLETED"


def test_upload_costs_no_credit(shop) -> None:
    upload(shop.live)
    assert shop.live.get("/account/credits").json() == {"creditBalance": 10}


def test_default_crop_makes_a_real_photo_4_by_5(shop) -> None:
    photo = sample_bytes("people", "1_posture.jpg")
    original = decode(photo)
    assert original.width * 5 != original.height * 4
    image = decode(fetch_jpeg(upload(shop.live, photo)["imageUrl"]))
    assert abs(image.width / image.height - 0.8) < 0.01
    explicit = decode(fetch_jpeg(upload(shop.live, photo, crop="true")["imageUrl"]))
    assert explicit.size == image.size


def test_crop_false_keeps_the_framing(shop) -> None:
    image = decode(fetch_jpeg(upload(shop.live, make_jpeg(300, 200), crop="false")["imageUrl"]))
    assert image.size == (300, 200)


def test_other_accepted_types_are_stored_as_jpeg(shop) -> None:
    def check(case: tuple[str, str]) -> None:
        name, mime = case
        response = post_file(shop.live, shared_file("bad-inputs", name), name, mime, crop="false")
        assert response.status_code == 200, response.text
        assert decode(fetch_jpeg(response.json()["imageUrl"])).mode == "RGB"

    cases = [
        ("photo.webp", "image/webp"),
        ("photo.heic", "image/heic"),
        ("rgba-alpha.png", "image/png"),
        ("cmyk.jpg", "image/jpeg"),
        ("gray-16bit.png", "image/png"),
    ]
    check_each(cases, check)


def test_png_alpha_is_flattened_on_white(shop) -> None:
    rgba = Image.new("RGBA", (200, 250), (255, 0, 0, 0))
    buffer = io.BytesIO()
    rgba.save(buffer, "PNG")
    image = decode(fetch_jpeg(upload(shop.live, buffer.getvalue(), crop="false")["imageUrl"]))
    assert all(channel > 245 for channel in image.getpixel((100, 125)))


def test_exif_orientation_is_applied_and_gps_is_stripped(shop) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}  # GPS
    exif[0x010F] = "PhoneMaker"
    buffer = io.BytesIO()
    make_image(320, 256, seed=4).save(buffer, "JPEG", exif=exif.tobytes())
    raw = buffer.getvalue()
    assert b"PhoneMaker" in raw
    stored = fetch_jpeg(upload(shop.live, raw, crop="false")["imageUrl"])
    image = decode(stored)
    assert image.size == (256, 320)
    assert not image.getexif()
    assert b"PhoneMaker" not in stored and b"Exif" not in stored


def test_shared_gps_photo_loses_its_metadata(shop) -> None:
    raw = shared_file("bad-inputs", "exif-orientation-6-with-gps.jpg")
    stored = fetch_jpeg(upload(shop.live, raw, crop="false")["imageUrl"])
    assert not decode(stored).getexif()
    assert b"Exif" not in stored


def test_customer_id_and_retention_fields_and_their_aliases_are_accepted(shop) -> None:
    upload(shop.live, customerId="cust-1", retentionDays="1")
    upload(shop.live, externalUserId="cust-2", keepForDays="3")
    upload(shop.live, customerId="cust-3", externalUserId="cust-3")
    upload(shop.live, retentionDays="7")


def test_no_file_part_is_file_required(shop) -> None:
    assert_error(
        shop.live.post("/images/upload", data={"customerId": "c"}, files={"other": ("x", b"1")}),
        400,
        "FILE_REQUIRED",
    )
    # A text field named file is not a file.
    assert_error(
        shop.live.post("/images/upload", data={"file": "not a file"}, files={"other": ("x", b"1")}),
        400,
        "FILE_REQUIRED",
    )
    assert_error(shop.live.post("/images/upload", json={"file": "x"}), 400, "FILE_REQUIRED")
    assert_error(shop.live.post("/images/upload"), 400, "FILE_REQUIRED")


def test_eleven_megabytes_is_file_too_large(shop) -> None:
    data = make_jpeg() + bytes(11 * 1024 * 1024)
    assert_error(post_file(shop.live, data), 413, "FILE_TOO_LARGE")


def test_shared_noise_over_10mb_is_file_too_large(shop) -> None:
    assert_error(
        post_file(shop.live, shared_file("bad-inputs", "noise-over-10mb.jpg")),
        413,
        "FILE_TOO_LARGE",
    )


def test_exactly_10_megabytes_is_not_too_large(shop) -> None:
    # 10 MB is the limit, not over it: the bytes are junk after a JPEG, so they are decoded
    # as that JPEG (trailing data is ignored by decoders) or refused as INVALID_IMAGE, never 413.
    data = make_jpeg()
    data += bytes(10 * 1024 * 1024 - len(data))
    response = post_file(shop.live, data)
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert_error(response, 400, "INVALID_IMAGE")


def image_bytes(fmt: str) -> bytes:
    buffer = io.BytesIO()
    make_image(200, 250).save(buffer, fmt)
    return buffer.getvalue()


UNSUPPORTED = [
    (
        "logo.svg",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="300" '
        b'height="300"><rect width="300" height="300" fill="red"/></svg>',
    ),
    ("doc.pdf", b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF"),
    ("anim.gif", image_bytes("GIF")),
    ("scan.tiff", image_bytes("TIFF")),
]


def test_svg_pdf_gif_tiff_are_unsupported_image_type(shop) -> None:
    def check(case: tuple[str, bytes]) -> None:
        name, data = case
        assert_error(post_file(shop.live, data, name), 415, "UNSUPPORTED_IMAGE_TYPE")

    check_each(UNSUPPORTED, check)


def test_shared_svg_is_unsupported_image_type(shop) -> None:
    data = shared_file("bad-inputs", "vector.svg")
    assert_error(post_file(shop.live, data, "vector.svg"), 415, "UNSUPPORTED_IMAGE_TYPE")


INVALID = [
    ("truncated", make_jpeg()[:2000]),
    ("empty", b""),
    ("text", b"hello, this is text and not an image at all" * 10),
    ("tiny", make_png(32, 32)),  # too small to be a photo
]


def test_bytes_that_are_not_a_usable_image_are_invalid_image(shop) -> None:
    def check(case: tuple[str, bytes]) -> None:
        assert_error(post_file(shop.live, case[1]), 400, "INVALID_IMAGE")

    check_each(INVALID, check)


def test_shared_bad_inputs_are_invalid_image(shop) -> None:
    def check(name: str) -> None:
        data = shared_file("bad-inputs", name)
        assert_error(post_file(shop.live, data, name), 400, "INVALID_IMAGE")

    names = ["truncated.jpg", "text-named.jpg", "empty.jpg", "one-pixel.png"]
    check_each([*names, "bomb-40000x40000.png"], check)


BAD_FIELDS = [
    ({"retentionDays": "2"}, "retentionDays"),
    ({"retentionDays": "seven"}, "retentionDays"),
    ({"keepForDays": "30"}, "keepForDays"),
    ({"crop": "maybe"}, "crop"),
    ({"customerId": "x" * 201}, "customerId"),
    ({"externalUserId": "bad\nid"}, "externalUserId"),
    ({"customerId": "a", "externalUserId": "b"}, "externalUserId"),
    ({"retentionDays": "7", "keepForDays": "3"}, "keepForDays"),
    ({"customerId": ""}, "customerId"),
    ({"externalUserId": ""}, "externalUserId"),
]


def test_bad_form_fields_are_validation_failed(shop) -> None:
    def check(case: tuple[dict[str, str], str]) -> None:
        fields, path = case
        response = post_file(shop.live, make_jpeg(), **fields)
        assert_error(response, 400, "VALIDATION_FAILED", paths=[path])

    check_each(BAD_FIELDS, check)


def test_refused_uploads_leave_nothing_in_storage(shop, blob_root) -> None:
    before = blob_files(blob_root)
    post_file(shop.live, b"junk" * 100)
    post_file(shop.live, make_jpeg() + bytes(11 * 1024 * 1024))
    post_file(shop.live, make_jpeg(), retentionDays="2")
    assert blob_files(blob_root) == before
