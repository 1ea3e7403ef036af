"""A typed client proves the schema (CONTRACTS §11): TypeScript types generated from the
committed ``openapi.json`` with openapi-typescript, and a client snippet calling three routes
type-checks with ``tsc --noEmit``. npm installs both into a temp folder; skipped without npm."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["openapi-typescript@7.13.0", "typescript@5.9.3"]

CLIENT = """\
import type { paths, components } from "./api";

type Json<P extends keyof paths, M extends keyof paths[P], S extends number> =
  paths[P][M] extends { responses: { [K in S]: { content: { "application/json": infer B } } } } ? B : never;

type Order = components["schemas"]["PaperOrder"];
type Created = Json<"/api/paper-orders", "post", 201>;
type Refusal = Json<"/api/paper-orders/{id}/close", "post", 409>;
type Render = Json<"/api/positions/{position_id}/what-could-have-been", "get", 200>;
type Status = Json<"/api/walkthrough/status", "get", 200>;
type CreateBody = paths["/api/paper-orders"]["post"]["requestBody"]["content"]["application/json"];

declare function call<T>(method: string, url: string, body?: unknown): Promise<T>;

export async function demo(): Promise<string> {
  const body: CreateBody = { symbol: "AAPL", side: "buy", quantity: "1", entry_price: "182.5", pre_label: "Bullish" };
  const created = await call<Created>("POST", "/api/paper-orders", body);
  const order: Order = created.order;
  const pnl: string | null = order.realized_pnl;
  const refusal = await call<Refusal>("POST", `/api/paper-orders/${order.id}/close`, { exit_price: "190" });
  const code: "order_closed" | "idempotency_key_in_use" = refusal.error;
  const render = await call<Render>("GET", "/api/positions/x/what-could-have-been?horizon=eod");
  const horizon: "close_of_market_only" | "monthly" = render.snapshot.tracking_horizon;
  const status = await call<Status>("GET", "/api/walkthrough/status");
  const next: string | null = status.next_screen;
  // @ts-expect-error: a side outside the enum does not type-check
  const wrong: CreateBody = { ...body, side: "short" };
  return [pnl, code, horizon, next, wrong.symbol].join(",");
}
"""


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed: the typed-client check needs it")
def test_typescript_types_generated_from_openapi_json_type_check_a_client(tmp_path):
    def run(*args, timeout=300):
        result = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=timeout)
        assert result.returncode == 0, f"{' '.join(args)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"

    (tmp_path / "package.json").write_text('{"name": "raxx-typed-client", "private": true}')
    run("npm", "install", "--no-audit", "--no-fund", "--loglevel=error", *PACKAGES)
    run(str(tmp_path / "node_modules/.bin/openapi-typescript"), str(ROOT / "openapi.json"), "-o", "api.ts")
    (tmp_path / "client.ts").write_text(CLIENT)
    run(str(tmp_path / "node_modules/.bin/tsc"), "--noEmit", "--strict", "--target", "es2020",
        "--module", "es2020", "--moduleResolution", "node", "client.ts")
