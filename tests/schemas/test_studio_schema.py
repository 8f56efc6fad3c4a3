"""The Studio schema is generated from the models; the committed copy must match."""

from __future__ import annotations

from pathlib import Path

from service.integrations.sanity.studio_schema import render_studio_schema, write_studio_schema

COMMITTED = Path(__file__).resolve().parents[2] / "schemas" / "studio"


def test_committed_studio_schema_matches_the_models() -> None:
    rendered = render_studio_schema()
    committed = {path.name: path.read_text(encoding="utf-8") for path in COMMITTED.glob("*.ts")}
    assert sorted(committed) == sorted(rendered), "files added or removed"
    for name, source in rendered.items():
        assert committed[name] == source, (
            f"schemas/studio/{name} drifted from the models; regenerate it with "
            "`stocksync studio-schema --out schemas/studio`"
        )


def _field_blocks(source: str, name: str) -> list[str]:
    return [part.split("}),")[0] for part in source.split(f"name: '{name}'")[1:]]


def test_reserved_counters_are_read_only_and_stock_stays_editable() -> None:
    # Editors keep stock on hand in Studio (the Sanity webhook ledgers their changes);
    # only the reserved counters, derived from reservations, are stocksync's alone.
    product = render_studio_schema()["productInventory.ts"]
    reserved = _field_blocks(product, "reservedQuantity")
    stock = _field_blocks(product, "stockQuantity")
    assert len(reserved) == 2 and len(stock) == 2  # product level and per variant
    for block in reserved:
        assert "readOnly: true" in block
    for block in stock:
        assert "readOnly" not in block
    for block in reserved + stock:
        assert "validation: (rule) => rule.integer().min(0)" in block
    assert "liveEdit: true" in product


def test_service_owned_types_are_read_only_documents() -> None:
    files = render_studio_schema()
    for name in ("stockReservation", "inventoryTransaction", "idempotencyRecord", "errorLog"):
        source = files[f"{name}.ts"]
        assert f"export const {name} = defineType({{" in source
        assert "  readOnly: true,\n  fields: [" in source
        assert f"'{name}'" in files["index.ts"]


def test_write_creates_the_files(tmp_path: Path) -> None:
    paths = write_studio_schema(tmp_path / "studio")
    assert {p.name for p in paths} == set(render_studio_schema())
    assert all(p.read_text(encoding="utf-8").startswith("// Generated") for p in paths)
