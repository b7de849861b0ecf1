import asyncio, sys
import asyncpg
from bench.database import fresh_database
from bench.scale import prepare, VERIFY
from bench.server import GraphQL, api_server
from bench.output import Output

async def stats(url, label):
    c = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    rows = await c.fetch("select relname, vacuum_count, autovacuum_count, analyze_count, autoanalyze_count, n_mod_since_analyze, n_ins_since_vacuum from pg_stat_user_tables where relname in ('credentials','candidates','assessment_results','disclosures','credential_status_changes','candidate_links') order by relname")
    print(label); [print("  ", tuple(r)) for r in rows]
    av = await c.fetch("select left(query, 80) from pg_stat_activity where backend_type='autovacuum worker'")
    print("  autovacuum now:", [tuple(r) for r in av])
    await c.close()

async def measure(base, p, url):
    async with GraphQL.signed_in(base, p.employer) as emp:
        t = await emp.timed(VERIFY, p.verifications[:250])
        await stats(url, "mid")
        t += await emp.timed(VERIFY, p.verifications[250:])
    slow = sorted(range(len(t)), key=lambda i: -t[i])[:8]
    print("slowest", [(i, round(t[i])) for i in slow])

with fresh_database() as url:
    p = asyncio.run(prepare(url, int(sys.argv[1]), 500, Output(as_json=False)))
    asyncio.run(stats(url, "after load"))
    with api_server(url) as base:
        asyncio.run(measure(base, p, url))
    asyncio.run(stats(url, "after"))
