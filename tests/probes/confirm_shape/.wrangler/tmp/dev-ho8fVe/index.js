var __defProp = Object.defineProperty;
var __name = (target, value) => __defProp(target, "name", { value, configurable: true });

// index.js
import { DurableObject } from "cloudflare:workers";
var SqlObject = class extends DurableObject {
  static {
    __name(this, "SqlObject");
  }
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => this.sql.exec(this.constructor.schema));
  }
};
var Limiter = class extends SqlObject {
  static {
    __name(this, "Limiter");
  }
  static schema = "CREATE TABLE IF NOT EXISTS hits (key TEXT PRIMARY KEY, n INTEGER)";
  async fetch(request) {
    const { key } = await request.json();
    this.sql.exec("INSERT INTO hits VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET n = n + 1", key);
    return Response.json({ admitted: true });
  }
};
var Keys = class extends SqlObject {
  static {
    __name(this, "Keys");
  }
  static schema = "CREATE TABLE IF NOT EXISTS keys (key TEXT PRIMARY KEY, state TEXT, answer TEXT)";
  async fetch(request) {
    const { op, key, answer } = await request.json();
    if (op === "complete") {
      this.sql.exec("UPDATE keys SET state = 'done', answer = ? WHERE key = ?", answer, key);
      return Response.json({});
    }
    const held = this.sql.exec("SELECT state FROM keys WHERE key = ?", key).toArray()[0];
    if (held) return Response.json({ begin: held.state });
    this.sql.exec("INSERT INTO keys VALUES (?, 'running', NULL)", key);
    return Response.json({ begin: "first" });
  }
};
var HISTORY_SCHEMA = "CREATE TABLE IF NOT EXISTS attempts (history TEXT, attempt TEXT, at INTEGER, PRIMARY KEY (history, attempt));";
function countAttempts(sql, histories, attempt, at) {
  return histories.map((history) => {
    sql.exec("INSERT OR IGNORE INTO attempts VALUES (?, ?, ?)", history, attempt, at);
    return sql.exec("SELECT count(*) AS n FROM attempts WHERE history = ? AND at > ?", history, at - 3600).one().n;
  });
}
__name(countAttempts, "countAttempts");
var Velocity = class extends SqlObject {
  static {
    __name(this, "Velocity");
  }
  static schema = HISTORY_SCHEMA;
  async fetch(request) {
    const { histories, attempt, at } = await request.json();
    return Response.json({ counts: countAttempts(this.sql, histories, attempt, at) });
  }
};
var PAYMENT_SCHEMA = `
  CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, amount INTEGER, status TEXT, payment TEXT);
  CREATE TABLE IF NOT EXISTS payments (id TEXT PRIMARY KEY, session TEXT, key TEXT UNIQUE, status TEXT,
    amount INTEGER, reference TEXT, updated INTEGER);
  CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, payment TEXT, kind TEXT, body TEXT);`;
var Shard = class extends SqlObject {
  static {
    __name(this, "Shard");
  }
  static schema = PAYMENT_SCHEMA + HISTORY_SCHEMA;
  async fetch(request) {
    const asked = await request.json();
    const storage = this.ctx.storage;
    if (asked.op === "session") {
      this.sql.exec("INSERT INTO sessions VALUES (?, 1234, 'open', NULL)", asked.session);
      return Response.json({});
    }
    if (asked.op === "begin") {
      return Response.json(storage.transactionSync(() => {
        const session = this.sql.exec("SELECT status FROM sessions WHERE id = ?", asked.session).toArray()[0];
        if (session?.status !== "open") return { refused: "session" };
        const counts = countAttempts(this.sql, asked.histories, asked.key, asked.at);
        const payment = "pay_" + crypto.randomUUID();
        this.sql.exec("UPDATE sessions SET status = 'processing', payment = ? WHERE id = ?", payment, asked.session);
        this.sql.exec(
          "INSERT INTO payments VALUES (?, ?, ?, 'processing', 1234, NULL, ?)",
          payment,
          asked.session,
          asked.key,
          asked.at
        );
        return { payment, counts };
      }));
    }
    return Response.json(storage.transactionSync(() => {
      this.sql.exec(
        "UPDATE payments SET status = ?, reference = ?, updated = ? WHERE id = ? AND status = 'processing'",
        asked.status,
        asked.reference,
        asked.at,
        asked.payment
      );
      this.sql.exec("UPDATE sessions SET status = 'complete' WHERE payment = ?", asked.payment);
      this.sql.exec(
        "INSERT INTO events VALUES (?, ?, 'payment.succeeded', ?)",
        "evt_" + crypto.randomUUID(),
        asked.payment,
        JSON.stringify(asked)
      );
      return {};
    }));
  }
};
async function call(namespace, name, body) {
  const stub = namespace.get(namespace.idFromName(name));
  const answer = await stub.fetch("http://object/", { method: "POST", body: JSON.stringify(body) });
  return answer.json();
}
__name(call, "call");
var PROBE_AMOUNT = 4321;
async function authorize(env, key) {
  const answer = await fetch(`${env.GATEWAY_URL}/v1/authorizations`, {
    method: "POST",
    headers: {
      Authorization: "Bearer gw_test_till_sandbox_key",
      "Idempotency-Key": key,
      "Content-Type": "application/json"
    },
    body: JSON.stringify({
      amount: PROBE_AMOUNT,
      currency: "USD",
      reference: "probe_" + key,
      capture: true,
      card: { number: "4242424242424242", exp_month: 12, exp_year: 2034, cvc: "123", name: "Ada Lovelace" }
    })
  });
  const payment = await answer.json();
  if (!answer.ok) throw new Error(`gateway answered ${answer.status}`);
  return payment;
}
__name(authorize, "authorize");
function stepTimer() {
  let last = Date.now();
  const steps = [];
  return {
    step(name) {
      const now = Date.now();
      steps.push(`${name};dur=${now - last}`);
      last = now;
    },
    header: /* @__PURE__ */ __name(() => steps.join(", "), "header")
  };
}
__name(stepTimer, "stepTimer");
var keysObject = /* @__PURE__ */ __name((key) => "keys:" + key.charCodeAt(0) % 8, "keysObject");
var shardOf = /* @__PURE__ */ __name((session) => "shard:" + session.charCodeAt(session.length - 1) % 4, "shardOf");
async function today(env, session, key, histories, timer) {
  const [limit, begin, reads, card, cvc] = await Promise.all([
    call(env.LIMITER, "publishable", { key: "publishable" }),
    call(env.KEYS, keysObject(key), { op: "begin", key }),
    env.DB.batch([
      env.DB.prepare("SELECT * FROM sessions WHERE id = ?").bind(session),
      env.DB.prepare("SELECT * FROM payments WHERE key = ?").bind(key)
    ]),
    env.VAULT.get("card:tok"),
    env.VAULT.get("cvc:tok")
  ]);
  if (!limit.admitted || begin.begin !== "first" || reads[0].results.length !== 1 || !card || !cvc) {
    return null;
  }
  timer.step("reads");
  const byObject = /* @__PURE__ */ new Map();
  for (const history of histories) {
    const object = "velocity:" + history.charCodeAt(0) % 8;
    byObject.set(object, [...byObject.get(object) ?? [], history]);
  }
  const at = Math.floor(Date.now() / 1e3);
  await Promise.all([...byObject].map(([object, held]) => call(env.VELOCITY, object, { histories: held, attempt: key, at })));
  timer.step("screen");
  const payment = "pay_" + crypto.randomUUID();
  const claimed = await env.DB.batch([
    env.DB.prepare("UPDATE sessions SET status = 'processing', payment = ? WHERE id = ? AND status = 'open'").bind(payment, session),
    env.DB.prepare("INSERT INTO payments SELECT ?, ?, ?, 'processing', 1234, NULL, ? WHERE changes() = 1").bind(payment, session, key, at)
  ]);
  if (claimed[0].meta.changes !== 1) return null;
  timer.step("start");
  const answer = await authorize(env, key);
  timer.step("gateway");
  await env.DB.batch([
    env.DB.prepare("UPDATE payments SET status = 'succeeded', reference = ?, updated = ? WHERE id = ? AND status = 'processing'").bind(answer.id, at, payment),
    env.DB.prepare("UPDATE sessions SET status = 'complete' WHERE payment = ? AND changes() = 1").bind(payment),
    env.DB.prepare("INSERT INTO events SELECT ?, ?, 'payment.succeeded', ? WHERE changes() = 1").bind("evt_" + crypto.randomUUID(), payment, JSON.stringify(answer))
  ]);
  timer.step("record");
  return payment;
}
__name(today, "today");
async function single(env, session, key, histories, timer) {
  const [limit, begin, card, cvc] = await Promise.all([
    call(env.LIMITER, "publishable", { key: "publishable" }),
    call(env.KEYS, keysObject(key), { op: "begin", key }),
    env.VAULT.get("card:tok"),
    env.VAULT.get("cvc:tok")
  ]);
  if (!limit.admitted || begin.begin !== "first" || !card || !cvc) return null;
  timer.step("reads");
  const at = Math.floor(Date.now() / 1e3);
  const started = await call(env.SHARD, shardOf(session), { op: "begin", session, key, histories, at });
  if (!started.payment) return null;
  timer.step("begin");
  const answer = await authorize(env, key);
  timer.step("gateway");
  await call(env.SHARD, shardOf(session), {
    op: "apply",
    payment: started.payment,
    status: "succeeded",
    reference: answer.id,
    at
  });
  timer.step("apply");
  return started.payment;
}
__name(single, "single");
var index_default = {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const session = url.searchParams.get("session") ?? "";
    const key = url.searchParams.get("key") ?? "";
    if (url.pathname === "/floor") return Response.json({ keys: [] });
    if (url.pathname === "/session") {
      await env.DB.exec(PAYMENT_SCHEMA.replace(/\n/g, " "));
      await Promise.all([
        env.DB.prepare("INSERT INTO sessions VALUES (?, 1234, 'open', NULL)").bind(session).run(),
        call(env.SHARD, shardOf(session), { op: "session", session }),
        env.VAULT.put("card:tok", "c".repeat(240)),
        env.VAULT.put("cvc:tok", "c".repeat(80))
      ]);
      return Response.json({});
    }
    if (url.pathname !== "/today" && url.pathname !== "/single") {
      return new Response("not found", { status: 404 });
    }
    const timer = stepTimer();
    const cached = await env.CACHE.get("answer:" + key);
    if (cached) return new Response(cached);
    timer.step("cache");
    const histories = ["card:" + session.slice(-2), "ip:127.0.0.1", "email:" + session.slice(-3)];
    const payment = url.pathname === "/today" ? await today(env, session, key, histories, timer) : await single(env, session, key, histories, timer);
    if (!payment) return new Response("refused", { status: 409 });
    const answer = JSON.stringify({ id: payment, status: "succeeded" });
    ctx.waitUntil(Promise.all([
      call(env.KEYS, keysObject(key), { op: "complete", key, answer }),
      env.CACHE.put("answer:" + key, answer, { expirationTtl: 86400 }),
      env.VAULT.delete("cvc:spent")
    ]));
    return new Response(answer, { headers: { "Server-Timing": timer.header() } });
  }
};

// ../../../node_modules/wrangler/templates/middleware/middleware-ensure-req-body-drained.ts
var drainBody = /* @__PURE__ */ __name(async (request, env, _ctx, middlewareCtx) => {
  try {
    return await middlewareCtx.next(request, env);
  } finally {
    try {
      if (request.body !== null && !request.bodyUsed) {
        const reader = request.body.getReader();
        while (!(await reader.read()).done) {
        }
      }
    } catch (e) {
      console.error("Failed to drain the unused request body.", e);
    }
  }
}, "drainBody");
var middleware_ensure_req_body_drained_default = drainBody;

// ../../../node_modules/wrangler/templates/middleware/middleware-miniflare3-json-error.ts
function reduceError(e) {
  return {
    name: e?.name,
    message: e?.message ?? String(e),
    stack: e?.stack,
    cause: e?.cause === void 0 ? void 0 : reduceError(e.cause)
  };
}
__name(reduceError, "reduceError");
var jsonError = /* @__PURE__ */ __name(async (request, env, _ctx, middlewareCtx) => {
  try {
    return await middlewareCtx.next(request, env);
  } catch (e) {
    const error = reduceError(e);
    return Response.json(error, {
      status: 500,
      headers: { "MF-Experimental-Error-Stack": "true" }
    });
  }
}, "jsonError");
var middleware_miniflare3_json_error_default = jsonError;

// .wrangler/tmp/bundle-HRSdyq/middleware-insertion-facade.js
var __INTERNAL_WRANGLER_MIDDLEWARE__ = [
  middleware_ensure_req_body_drained_default,
  middleware_miniflare3_json_error_default
];
var middleware_insertion_facade_default = index_default;

// ../../../node_modules/wrangler/templates/middleware/common.ts
var __facade_middleware__ = [];
function __facade_register__(...args) {
  __facade_middleware__.push(...args.flat());
}
__name(__facade_register__, "__facade_register__");
function __facade_invokeChain__(request, env, ctx, dispatch, middlewareChain) {
  const [head, ...tail] = middlewareChain;
  const middlewareCtx = {
    dispatch,
    next(newRequest, newEnv) {
      return __facade_invokeChain__(newRequest, newEnv, ctx, dispatch, tail);
    }
  };
  return head(request, env, ctx, middlewareCtx);
}
__name(__facade_invokeChain__, "__facade_invokeChain__");
function __facade_invoke__(request, env, ctx, dispatch, finalMiddleware) {
  return __facade_invokeChain__(request, env, ctx, dispatch, [
    ...__facade_middleware__,
    finalMiddleware
  ]);
}
__name(__facade_invoke__, "__facade_invoke__");

// .wrangler/tmp/bundle-HRSdyq/middleware-loader.entry.ts
var __Facade_ScheduledController__ = class ___Facade_ScheduledController__ {
  constructor(scheduledTime, cron, noRetry) {
    this.scheduledTime = scheduledTime;
    this.cron = cron;
    this.#noRetry = noRetry;
  }
  static {
    __name(this, "__Facade_ScheduledController__");
  }
  #noRetry;
  noRetry() {
    if (!(this instanceof ___Facade_ScheduledController__)) {
      throw new TypeError("Illegal invocation");
    }
    this.#noRetry();
  }
};
function wrapExportedHandler(worker) {
  if (__INTERNAL_WRANGLER_MIDDLEWARE__ === void 0 || __INTERNAL_WRANGLER_MIDDLEWARE__.length === 0) {
    return worker;
  }
  for (const middleware of __INTERNAL_WRANGLER_MIDDLEWARE__) {
    __facade_register__(middleware);
  }
  const fetchDispatcher = /* @__PURE__ */ __name(function(request, env, ctx) {
    if (worker.fetch === void 0) {
      throw new Error("Handler does not export a fetch() function.");
    }
    return worker.fetch(request, env, ctx);
  }, "fetchDispatcher");
  return {
    ...worker,
    fetch(request, env, ctx) {
      const dispatcher = /* @__PURE__ */ __name(function(type, init) {
        if (type === "scheduled" && worker.scheduled !== void 0) {
          const controller = new __Facade_ScheduledController__(
            Date.now(),
            init.cron ?? "",
            () => {
            }
          );
          return worker.scheduled(controller, env, ctx);
        }
      }, "dispatcher");
      return __facade_invoke__(request, env, ctx, dispatcher, fetchDispatcher);
    }
  };
}
__name(wrapExportedHandler, "wrapExportedHandler");
function wrapWorkerEntrypoint(klass) {
  if (__INTERNAL_WRANGLER_MIDDLEWARE__ === void 0 || __INTERNAL_WRANGLER_MIDDLEWARE__.length === 0) {
    return klass;
  }
  for (const middleware of __INTERNAL_WRANGLER_MIDDLEWARE__) {
    __facade_register__(middleware);
  }
  return class extends klass {
    #fetchDispatcher = /* @__PURE__ */ __name((request, env, ctx) => {
      this.env = env;
      this.ctx = ctx;
      if (super.fetch === void 0) {
        throw new Error("Entrypoint class does not define a fetch() function.");
      }
      return super.fetch(request);
    }, "#fetchDispatcher");
    #dispatcher = /* @__PURE__ */ __name((type, init) => {
      if (type === "scheduled" && super.scheduled !== void 0) {
        const controller = new __Facade_ScheduledController__(
          Date.now(),
          init.cron ?? "",
          () => {
          }
        );
        return super.scheduled(controller);
      }
    }, "#dispatcher");
    fetch(request) {
      return __facade_invoke__(
        request,
        this.env,
        this.ctx,
        this.#dispatcher,
        this.#fetchDispatcher
      );
    }
  };
}
__name(wrapWorkerEntrypoint, "wrapWorkerEntrypoint");
var WRAPPED_ENTRY;
if (typeof middleware_insertion_facade_default === "object") {
  WRAPPED_ENTRY = wrapExportedHandler(middleware_insertion_facade_default);
} else if (typeof middleware_insertion_facade_default === "function") {
  WRAPPED_ENTRY = wrapWorkerEntrypoint(middleware_insertion_facade_default);
}
var middleware_loader_entry_default = WRAPPED_ENTRY;
export {
  Keys,
  Limiter,
  Shard,
  Velocity,
  __INTERNAL_WRANGLER_MIDDLEWARE__,
  middleware_loader_entry_default as default
};
//# sourceMappingURL=index.js.map
