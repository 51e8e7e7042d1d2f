"""/docs: a reference page of every API route, rendered by the server from its own OpenAPI description (Swagger
UI's scripts come from a CDN, which the page policy and an offline machine refuse)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from .pages import templates

router = APIRouter(include_in_schema=False)


@dataclass(slots=True)
class Parameter:
    """One parameter of an API route, for the reference page."""

    name: str
    where: str
    type: str
    default: str
    description: str
    required: bool


@dataclass(slots=True)
class Route:
    """One method and path of the JSON API, for the reference page."""

    method: str
    path: str
    anchor: str
    summary: str
    parameters: list[Parameter]
    responses: list[tuple[str, str]]


def type_name(schema: dict, components: dict) -> str:
    """A short readable type of a JSON schema: "integer 1–100", "list of string", "date or null"."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(type_name(s, components) for s in schema["anyOf"])
    name = schema.get("format") or schema.get("type", "object")
    if name == "array":
        name = f"list of {type_name(schema.get('items', {}), components)}"
    if "enum" in schema:
        name = " | ".join(str(v) for v in schema["enum"])
    low, high = (_number(schema.get(key)) for key in ("minimum", "maximum"))
    if low or high:
        name += f" {low}–{high}"
    if "maxLength" in schema:
        name += f", at most {schema['maxLength']} characters"
    return name


def _number(value: float | None) -> str:
    """1.0 as "1", 0.5 as "0.5", None as nothing."""
    return "" if value is None else f"{value:g}"


def api_routes(spec: dict) -> list[Route]:
    """The JSON API's routes from its OpenAPI description, with query, path and body parameters."""
    components = spec.get("components", {}).get("schemas", {})
    routes = []
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            params = [
                Parameter(
                    p["name"],
                    p["in"],
                    type_name(p.get("schema", {}), components),
                    _default(p.get("schema", {})),
                    p.get("description") or p.get("schema", {}).get("description", ""),
                    p.get("required", False),
                )
                for p in op.get("parameters", [])
            ]
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            model = components.get(body.get("$ref", "").rsplit("/", 1)[-1], {})
            params += [
                Parameter(
                    name,
                    "body",
                    type_name(field, components),
                    _default(field),
                    field.get("description", ""),
                    name in model.get("required", []),
                )
                for name, field in model.get("properties", {}).items()
            ]
            responses = [(code, r.get("description", "")) for code, r in op.get("responses", {}).items()]
            routes.append(
                Route(
                    method.upper(),
                    path,
                    f"{method}-{path.strip('/').replace('/', '-')}",
                    op.get("description") or op.get("summary", ""),
                    params,
                    responses,
                )
            )
    return routes


def _default(schema: dict) -> str:
    """A parameter's default as shown, or nothing."""
    return "" if "default" not in schema or schema["default"] in (None, []) else str(schema["default"])


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    """A reference of the JSON API rendered here from its OpenAPI description: no script, nothing fetched."""
    spec = request.app.openapi()
    routes = [r for r in api_routes(spec) if r.path.startswith("/api")]
    return templates.TemplateResponse(request, "api_docs.html", {"routes": routes, "version": spec["info"]["version"]})
