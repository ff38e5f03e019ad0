// The confirm's storage round trips without Till's code, for `cargo xtask bench`.
//
// GET /floor                    storage-free, like the edge's GET /v1/keys
// POST /session?session=ID      a checkout session, in D1 and in its shard (not timed)
// POST /today?session=&key=     the wave (the key's claim, the limiter, one D1 read batch,
//                               the token's vault read), the velocity objects, the D1 claim
//                               batch, the gateway, the D1 record batch; Complete after the
//                               answer. Server-Timing names the steps as the edge does.
// POST /single?session=&key=    the wave without D1, then one shard transaction (session
//                               check, velocity, claim, insert), the gateway, one shard
//                               transaction (payment, session, event); the same after it.
import { DurableObject } from "cloudflare:workers";

class SqlObject extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => this.sql.exec(this.constructor.schema));
  }
}

export class Limiter extends SqlObject {
  static schema = "CREATE TABLE IF NOT EXISTS hits (key TEXT PRIMARY KEY, n INTEGER)";
  async fetch(request) {
    const { key } = await request.json();
    this.sql.exec("INSERT INTO hits VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET n = n + 1", key);
    return Response.json({ admitted: true });
  }
}

export class Keys extends SqlObject {
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
}

const HISTORY_SCHEMA =
  "CREATE TABLE IF NOT EXISTS attempts (history TEXT, attempt TEXT, at INTEGER, PRIMARY KEY (history, attempt));";

/** Records the attempt in each history; the attempts of the last hour in each. */
function countAttempts(sql, histories, attempt, at) {
  return histories.map((history) => {
    sql.exec("INSERT OR IGNORE INTO attempts VALUES (?, ?, ?)", history, attempt, at);
    return sql.exec("SELECT count(*) AS n FROM attempts WHERE history = ? AND at > ?", history, at - 3600).one().n;
  });
}

export class Velocity extends SqlObject {
  static schema = HISTORY_SCHEMA;
  async fetch(request) {
    const { histories, attempt, at } = await request.json();
    return Response.json({ counts: countAttempts(this.sql, histories, attempt, at) });
  }
}

const PAYMENT_SCHEMA = `
  CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, amount INTEGER, status TEXT, payment TEXT);
  CREATE TABLE IF NOT EXISTS payments (id TEXT PRIMARY KEY, session TEXT, key TEXT UNIQUE, status TEXT,
    amount INTEGER, reference TEXT, updated INTEGER);
  CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, payment TEXT, kind TEXT, body TEXT);`;

/** One shard: the sessions, payments, events and velocity histories of its merchants. */
export class Shard extends SqlObject {
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
        this.sql.exec("INSERT INTO payments VALUES (?, ?, ?, 'processing', 1234, NULL, ?)",
          payment, asked.session, asked.key, asked.at);
        return { payment, counts };
      }));
    }
    return Response.json(storage.transactionSync(() => {
      this.sql.exec("UPDATE payments SET status = ?, reference = ?, updated = ? WHERE id = ? AND status = 'processing'",
        asked.status, asked.reference, asked.at, asked.payment);
      this.sql.exec("UPDATE sessions SET status = 'complete' WHERE payment = ?", asked.payment);
      this.sql.exec("INSERT INTO events VALUES (?, ?, 'payment.succeeded', ?)",
        "evt_" + crypto.randomUUID(), asked.payment, JSON.stringify(asked));
      return {};
    }));
  }
}

async function call(namespace, name, body) {
  const stub = namespace.get(namespace.idFromName(name));
  const answer = await stub.fetch("http://object/", { method: "POST", body: JSON.stringify(body) });
  return answer.json();
}

/** The amount the probe authorizes: `cargo xtask bench` has the sandbox send no webhooks for
 * it, so no echo reaches the edge while the probe is measured. */
const PROBE_AMOUNT = 4321;

async function authorize(env, key) {
  const answer = await fetch(`${env.GATEWAY_URL}/v1/authorizations`, {
    method: "POST",
    headers: {
      Authorization: "Bearer gw_test_till_sandbox_key",
      "Idempotency-Key": key,
      "Content-Type": "application/json",
    },
    body: JSON.stringify({
      amount: PROBE_AMOUNT, currency: "USD", reference: "probe_" + key, capture: true,
      card: { number: "4242424242424242", exp_month: 12, exp_year: 2034, cvc: "123", name: "Ada Lovelace" },
    }),
  });
  const payment = await answer.json();
  if (!answer.ok) throw new Error(`gateway answered ${answer.status}`);
  return payment;
}

/** Marks each step when the I/O it waited on completes (the runtime's clock moves only then). */
function stepTimer() {
  let last = Date.now();
  const steps = [];
  return {
    step(name) {
      const now = Date.now();
      steps.push(`${name};dur=${now - last}`);
      last = now;
    },
    header: () => steps.join(", "),
  };
}

const keysObject = (key) => "keys:" + (key.charCodeAt(0) % 8);
const shardOf = (session) => "shard:" + (session.charCodeAt(session.length - 1) % 4);

/** The key's claim, its step marked when it answers. */
async function claim(env, key, timer) {
  const begin = await call(env.KEYS, keysObject(key), { op: "begin", key });
  timer.step("claim");
  return begin;
}

async function today(env, session, key, histories, timer) {
  const [begin, limit, reads, token] = await Promise.all([
    claim(env, key, timer),
    call(env.LIMITER, "publishable", { key: "publishable" }),
    env.DB.batch([
      env.DB.prepare("SELECT * FROM sessions WHERE id = ?").bind(session),
      env.DB.prepare("SELECT * FROM payments WHERE key = ?").bind(key),
    ]),
    env.VAULT.get("tok:tok"),
  ]);
  if (!limit.admitted || begin.begin !== "first" || reads[0].results.length !== 1 || !token) {
    return null;
  }
  timer.step("reads");
  const byObject = new Map();
  for (const history of histories) {
    const object = "velocity:" + (history.charCodeAt(0) % 8);
    byObject.set(object, [...(byObject.get(object) ?? []), history]);
  }
  const at = Math.floor(Date.now() / 1000);
  await Promise.all([...byObject].map(([object, held]) =>
    call(env.VELOCITY, object, { histories: held, attempt: key, at })));
  timer.step("screen");
  const payment = "pay_" + crypto.randomUUID();
  const claimed = await env.DB.batch([
    env.DB.prepare("UPDATE sessions SET status = 'processing', payment = ? WHERE id = ? AND status = 'open'")
      .bind(payment, session),
    env.DB.prepare("INSERT INTO payments SELECT ?, ?, ?, 'processing', 1234, NULL, ? WHERE changes() = 1")
      .bind(payment, session, key, at),
  ]);
  if (claimed[0].meta.changes !== 1) return null;
  timer.step("start");
  const answer = await authorize(env, key);
  timer.step("gateway");
  await env.DB.batch([
    env.DB.prepare("UPDATE payments SET status = 'succeeded', reference = ?, updated = ? WHERE id = ? AND status = 'processing'")
      .bind(answer.id, at, payment),
    env.DB.prepare("UPDATE sessions SET status = 'complete' WHERE payment = ? AND changes() = 1").bind(payment),
    env.DB.prepare("INSERT INTO events SELECT ?, ?, 'payment.succeeded', ? WHERE changes() = 1")
      .bind("evt_" + crypto.randomUUID(), payment, JSON.stringify(answer)),
  ]);
  timer.step("record");
  return payment;
}

async function single(env, session, key, histories, timer) {
  const [begin, limit, token] = await Promise.all([
    claim(env, key, timer),
    call(env.LIMITER, "publishable", { key: "publishable" }),
    env.VAULT.get("tok:tok"),
  ]);
  if (!limit.admitted || begin.begin !== "first" || !token) return null;
  timer.step("reads");
  const at = Math.floor(Date.now() / 1000);
  const started = await call(env.SHARD, shardOf(session), { op: "begin", session, key, histories, at });
  if (!started.payment) return null;
  timer.step("begin");
  const answer = await authorize(env, key);
  timer.step("gateway");
  await call(env.SHARD, shardOf(session), {
    op: "apply", payment: started.payment, status: "succeeded", reference: answer.id, at,
  });
  timer.step("apply");
  return started.payment;
}

export default {
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
        env.VAULT.put("tok:tok", "c".repeat(320)),
      ]);
      return Response.json({});
    }
    if (url.pathname !== "/today" && url.pathname !== "/single") {
      return new Response("not found", { status: 404 });
    }
    const timer = stepTimer();
    const histories = ["card:" + session.slice(-2), "ip:127.0.0.1", "email:" + session.slice(-3)];
    const payment = url.pathname === "/today"
      ? await today(env, session, key, histories, timer)
      : await single(env, session, key, histories, timer);
    if (!payment) return new Response("refused", { status: 409 });
    const answer = JSON.stringify({ id: payment, status: "succeeded" });
    ctx.waitUntil(Promise.all([
      call(env.KEYS, keysObject(key), { op: "complete", key, answer }),
      env.VAULT.delete("tok:spent"),
    ]));
    return new Response(answer, { headers: { "Server-Timing": timer.header() } });
  },
};
