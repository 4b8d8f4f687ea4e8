"""The ``local`` engine: classical try-on on the CPU, no generative model.

Pipeline: classify the product (title keywords, then mask shape) -> cut the garment out of its
product photo -> detect the person's pose -> read landmarks off the garment mask -> pair them with
body landmarks -> thin-plate-spline warp -> feathered composite inside the clothing region.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from tryon.engines.base import EngineError, TryOnInput
from tryon.engines.local.body import Body, analyse_body, top_overhang
from tryon.engines.local.category import Category, category_from_text
from tryon.engines.local.composite import allowed_region, composite
from tryon.engines.local.cover import enclosed_gaps, extend_over, old_clothes
from tryon.engines.local.fit import Fit, fit_bottom, fit_top
from tryon.engines.local.garment import GarmentCutout, cut_out_garment
from tryon.engines.local.people import detect_subject_pose
from tryon.engines.local.pose import LEFT_SHOULDER, RIGHT_SHOULDER
from tryon.engines.local.raster import resize_long_side
from tryon.engines.local.shading import apply_shading, shading_ratio
from tryon.engines.local.shape import analyse_bottom, analyse_top, looks_like_bottom
from tryon.engines.local.warp import warp_to_body

# Internal working size (long side) of the person photo; results are scaled back.
WORK_SIDE = 1024
# Dresses reach from the shoulders to between the knees and the ankles.
_DRESS_HEM = (1.8, 3.4)


def _to_rgb_array(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def _polygon_mask(polygon: np.ndarray, margin: float, height: int, width: int) -> np.ndarray:
    """Soft mask of a polygon grown by ``margin`` pixels."""
    mask = np.zeros((height, width), np.uint8)
    cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 1)
    radius = max(1, round(margin))
    mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2))
    return cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 1.0)


def _half_mask(mask: np.ndarray, side: int) -> np.ndarray:
    """Soft mask of the image-left (0) or image-right (1) half of a garment, split at its centre
    line (the fly of trousers) with a few pixels of overlap so the halves join seamlessly."""
    ys, xs = np.nonzero(mask)
    top = ys.min()
    centre = float(np.median(xs[ys < top + max(2, int(0.05 * (ys.max() - top)))]))
    overlap = max(2.0, 0.004 * max(mask.shape))
    x = np.arange(mask.shape[1], dtype=np.float32)
    ramp = np.clip((centre + overlap - x) / (2.0 * overlap), 0.0, 1.0)
    ramp = ramp if side == 0 else np.clip((x - centre + overlap) / (2.0 * overlap), 0.0, 1.0)
    return np.broadcast_to(ramp[None, :], mask.shape)


class LocalEngine:
    """Classical try-on: MediaPipe pose + garment segmentation + thin-plate-spline warp."""

    name = "local"

    def generate(self, request: TryOnInput) -> Image.Image:
        """Return the person wearing the product, RGB, same size as ``person_image``."""
        if not request.product_images:
            raise EngineError("PRODUCT_IMAGE_UNUSABLE", "No product image was given.")
        category = category_from_text(request.product_title, request.product_description)
        if category == "accessory":
            raise EngineError(
                "PRODUCT_IMAGE_UNUSABLE",
                "The local engine can only dress tops, bottoms and dresses, not accessories.",
            )
        garment = self._cut_out(request.product_images)
        if category is None:
            category = "bottom" if looks_like_bottom(garment.mask) else "top"

        person_full = _to_rgb_array(request.person_image)
        person = resize_long_side(person_full, WORK_SIDE)
        body = self._find_body(person)

        try:
            fit = self._fit(category, garment, body)
            layer, alpha = self._warp(garment, fit, body)
        except EngineError:
            raise
        except Exception as exc:  # geometry on odd inputs: report, do not crash the worker
            raise EngineError("ENGINE_ERROR", f"Could not fit the garment: {exc}") from exc

        # Crisp like a real garment edge: the person mask is accurate to a few pixels only.
        protected = body.protected
        if category == "bottom" and not fit.over_top:
            # Trousers go under the top the person wears, not over its hem.
            protected = protected | top_overhang(body, person)
        # Crisp like a real garment edge: the person mask is accurate to a few pixels only.
        feather = max(1.0, 0.0025 * max(person.shape[:2]))
        allowed = allowed_region(body.person, protected, feather)
        alpha = alpha * allowed
        # Folds and light of the clothes the person wears, onto the new garment.
        layer = apply_shading(layer, shading_ratio(person, alpha > 0.05))
        # Where the old clothes still show beside or below it, extend the new garment over them.
        hide = old_clothes(
            body,
            person,
            alpha >= 0.5,
            allowed > 0,
            "bottom" if category == "bottom" else "top",
            fit.long_sleeves,
        )
        hide |= enclosed_gaps(alpha >= 0.5, allowed > 0)
        layer, alpha = extend_over(layer, alpha, hide, body.shoulder_width)
        alpha = alpha * allowed
        result = self._compose_full(person_full, layer, alpha, body, protected)
        return Image.fromarray(result, mode="RGB")

    @staticmethod
    def _cut_out(images: list[Image.Image]) -> GarmentCutout:
        for image in images:
            cutout = cut_out_garment(_to_rgb_array(image))
            if cutout is not None:
                return cutout
        raise EngineError(
            "PRODUCT_IMAGE_UNUSABLE",
            "No garment could be separated from the product photo; a single garment on a plain, "
            "light background is needed.",
        )

    @staticmethod
    def _find_body(person: np.ndarray) -> Body:
        pose = detect_subject_pose(person)
        if pose is None or pose.bounding_box() is None:
            raise EngineError("CUSTOMER_IMAGE_UNUSABLE", "No person was found in the photo.")
        height, width = person.shape[:2]
        for index in (LEFT_SHOULDER, RIGHT_SHOULDER):
            x, y = pose.point(index)
            if not pose.visible(index) or not (0 <= x < width and 0 <= y < height):
                raise EngineError(
                    "CUSTOMER_IMAGE_UNUSABLE",
                    "Both shoulders of the person must be visible in the photo.",
                )
        body = analyse_body(pose, person)
        if body.shoulder_width < 0.04 * max(width, height):
            raise EngineError(
                "CUSTOMER_IMAGE_UNUSABLE",
                "The person is too small in the photo, or turned sideways.",
            )
        return body

    @staticmethod
    def _fit(category: Category, garment: GarmentCutout, body: Body) -> Fit:
        if category == "bottom":
            if not body.legs_visible():
                raise EngineError(
                    "CUSTOMER_IMAGE_UNUSABLE",
                    "Trousers and skirts need a photo showing the hips and legs down to the knees "
                    "at least; this photo does not show the legs.",
                )
            return fit_bottom(analyse_bottom(garment.mask), body, garment.mask.shape)
        hem_range = _DRESS_HEM if category == "dress" else None
        return fit_top(analyse_top(garment.mask), body, garment.mask.shape, hem_range)

    @staticmethod
    def _warp(garment: GarmentCutout, fit: Fit, body: Body) -> tuple[np.ndarray, np.ndarray]:
        """Warp every part and stack them (later parts over earlier ones)."""
        size = (body.width, body.height)
        rgb = np.zeros((body.height, body.width, 3), dtype=np.float32)
        alpha = np.zeros((body.height, body.width), dtype=np.float32)
        for part in fit.parts:
            part_alpha = (
                garment.alpha if part.garment_mask is None else garment.alpha * part.garment_mask
            )
            if part.garment_side is not None:
                part_alpha = part_alpha * _half_mask(garment.mask, part.garment_side)
            layer, layer_alpha = warp_to_body(
                garment.rgb, part_alpha, part.body_points, part.garment_points, size, part.region
            )
            if part.clip is not None:
                layer_alpha *= _polygon_mask(part.clip, part.clip_margin, body.height, body.width)
            a = layer_alpha[..., None]
            rgb = layer.astype(np.float32) * a + rgb * (1.0 - a)
            alpha = layer_alpha + alpha * (1.0 - layer_alpha)
        # Un-premultiply so the composite can apply the final opacity itself.
        rgb = rgb / np.maximum(alpha[..., None], 1e-6)
        return np.clip(rgb, 0, 255).astype(np.uint8), alpha

    @staticmethod
    def _compose_full(
        person_full: np.ndarray,
        layer: np.ndarray,
        alpha: np.ndarray,
        body: Body,
        protected: np.ndarray,
    ) -> np.ndarray:
        """Composite at the photo's own size, touching only the garment's bounding box."""
        height, width = person_full.shape[:2]
        if (width, height) == (body.width, body.height):
            return composite(person_full, layer, alpha)
        ys, xs = np.nonzero(alpha > 0)
        if xs.size == 0:
            return person_full.copy()
        sx, sy = width / body.width, height / body.height
        # The box in full-size pixels, one working pixel wider all round for interpolation.
        left = max(0, int(np.floor((xs.min() - 1) * sx)))
        top = max(0, int(np.floor((ys.min() - 1) * sy)))
        right = min(width, int(np.ceil((xs.max() + 2) * sx)))
        bottom = min(height, int(np.ceil((ys.max() + 2) * sy)))
        size = (right - left, bottom - top)
        # Sample the working-size maps at the centres of the full-size pixels of the box, the
        # same convention as cv2.resize, but for the box only.
        matrix = np.array(
            [[1 / sx, 0, (left + 0.5) / sx - 0.5], [0, 1 / sy, (top + 0.5) / sy - 0.5]],
            dtype=np.float64,
        )

        def scale(image: np.ndarray, interpolation: int) -> np.ndarray:
            return cv2.warpAffine(
                image,
                matrix,
                size,
                flags=interpolation | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_REPLICATE,
            )

        layer_box = scale(layer, cv2.INTER_LINEAR)
        alpha_box = scale(alpha, cv2.INTER_LINEAR)
        person_box = scale(body.person, cv2.INTER_LINEAR)
        protected_box = scale(protected.astype(np.uint8), cv2.INTER_NEAREST).astype(bool)
        # Re-clip at full size: interpolation must not bleed past the person or the face.
        alpha_box = alpha_box * ((person_box >= 0.5) & ~protected_box)
        out = person_full.copy()
        out[top:bottom, left:right] = composite(
            person_full[top:bottom, left:right], layer_box, alpha_box
        )
        return out
