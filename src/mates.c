/*-------------------------------------------------------------------------
 *
 * mates.c
 *		Exact top-k mate search: ecs_find_mates (one agent),
 *		ecs_find_mates_batch (many) and ecs_pair_population (everyone).
 *
 * Exactness with kinship (SPEC section 3): final = trait * max(0, 1 - p r)
 * is never above the trait score, so trait score is an upper bound.  Every
 * search lists candidates in descending trait score (ties: mate_id in byte
 * order), then re-ranks them by final score, computing relatedness only for
 * candidates whose ancestor sets meet the agent's (kinship.c), and stops
 * once the k-th best final score beats the next candidate's upper bound:
 * the threshold algorithm.  If a list runs out first, a longer one is read.
 *
 *	- ecs_find_mates lists candidates with one SQL query through SPI:
 *	  `ORDER BY genome <~> $query LIMIT n`, a pure per-row operator, so the
 *	  same query runs on a Citus shard, and under the genome index when the
 *	  planner takes it (SPEC section 9); privileges and row-level security
 *	  apply as for the caller.  Pedigrees are loaded lazily, in chunks.
 *	- ecs_find_mates_batch and ecs_pair_population read the active agents
 *	  once into a packed array (id, sex, genome, the genome index's codes)
 *	  through the same kind of query, then bound every agent with the
 *	  index's kernel (genome_code.c) and score exactly only those the bound
 *	  cannot rule out.  All paths use the same scorer (ecs_weighted_l1), so
 *	  scores and ties are bit-identical to the single-agent path.  Their
 *	  pedigree is walked lazily too, or, when that would cost more, read
 *	  whole with one query (pedigree_load_searched); the values are the
 *	  same either way.
 *
 * IDENTIFICATION
 *		src/mates.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#include <math.h>

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "ecs_agents.h"
#include "funcapi.h"
#include "genome_index.h"
#include "miscadmin.h"
#include "optimizer/cost.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "common/hashfn.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

/*
 * Memory: a single search holds one round of candidates (k + a margin,
 * growing only while related candidates crowd the top, at most 4096 per
 * query or cursor chunk) and their pedigree; the packed array holds
 * (95 + 4 * traits rounded up to 8) bytes per active agent (first sized for
 * the table's row estimate, at most POP_PRESIZE_MAX rows) and its id index
 * 8 to 16 more, plus the pedigree of the agents searched for and
 * their candidates; batch lists are bounded to 262144 candidates at once.
 * When the batch or the pairing reads the whole pedigree instead of walking
 * it (pedigree_load_searched: n searches of k mates, when
 * n * (k + 2) * 2^kinship_depth >= the rows of ecs.agents), that copy holds
 * about 120 bytes per agent of the table (ids, links and per-node scratch:
 * 12.3 MB for 100,000 agents), and every agent searched or listed adds its
 * S-set (kinship.c), as it does after walks.
 * Interrupts: checked per candidate row read, per agent searched and per
 * kinship evaluation, so statement_timeout stops any call promptly.
 */

/* candidates listed beyond k on the first pass */
#define MATES_MARGIN		8
/*
 * the same for the batch searches: a list costs a scan whose survivors
 * grow with its length, and at 100,000 agents fewer than 1% of searches
 * need a second scan with this margin (21% with a margin of 1)
 */
#define MATES_BATCH_MARGIN	3
/* most candidates one round of a single search reads */
#define MATES_MAX_FETCH		4096
/* most candidates listed at once by the batch searches (memory bound) */
#define MATES_MAX_LISTED	262144
/* candidate lists kept per agent by ecs_pair_population */
#define PAIR_LIST			8

typedef struct Candidate
{
	char		id[ECS_AGENT_ID_MAX + 1];
	double		trait;
	double		final;
	double		relatedness;
	double		l1;				/* weighted L1 distance behind trait */
	int32		ped;			/* pedigree index, -1 until loaded */
	int32		row;			/* population row (batch lists), else -1 */
	char	   *p1;				/* parents ("" for none) while a round of */
	char	   *p2;				/* ecs_find_mates is read; else NULL */
} Candidate;

/* (score desc, id asc): negative when x ranks before y */
static inline int
rank_cmp(double sx, const char *ix, double sy, const char *iy)
{
	if (sx > sy)
		return -1;
	if (sx < sy)
		return 1;
	return strcmp(ix, iy);
}

/*
 * Insert c into best[0..*n) kept sorted by (final desc, id asc), at most k.
 */
static void
top_insert(Candidate *best, int *n, int k, const Candidate *c)
{
	int			pos = *n;

	if (*n == k && rank_cmp(c->final, c->id, best[k - 1].final, best[k - 1].id) >= 0)
		return;
	if (*n < k)
		(*n)++;
	else
		pos = k - 1;
	while (pos > 0 && rank_cmp(c->final, c->id, best[pos - 1].final, best[pos - 1].id) < 0)
	{
		best[pos] = best[pos - 1];
		pos--;
	}
	best[pos] = *c;
}

/*
 * The threshold test: the top k is final once its k-th final score is above
 * the next candidate's upper bound, its trait score.  Only strictly: a
 * later candidate of the same trait score may have a smaller id (lists are
 * in distance order, and distances that differ can give equal scores).
 */
static inline bool
threshold_met(const Candidate *best, int nbest, int k, const Candidate *next)
{
	return nbest == k && best[k - 1].final > next->trait;
}

/*
 * rerank
 *		Threshold pass over list[from..n) (descending trait score) for the
 *		agent of pedigree index pa.  Updates best[0..*nbest) (at most
 *		k).  Returns true when the top k is final: a later candidate cannot
 *		enter it.  Candidates must have pedigree indexes (loaded).
 */
static bool
rerank(EcsPedigree *ped, int pa, Candidate *list, int from, int n,
	   Candidate *best, int *nbest, int k)
{
	int			i;

	for (i = from; i < n; i++)
	{
		Candidate  *c = &list[i];

		CHECK_FOR_INTERRUPTS();
		if (threshold_met(best, *nbest, k, c))
			return true;
		if (c->ped < 0)
			continue;			/* vanished between reads: not visible */
		c->relatedness = ecs_relatedness_value(ped, pa, c->ped);
		if (!(c->relatedness < ecs_max_relatedness))
			continue;
		c->final = ecs_final_score(c->trait, c->relatedness);
		top_insert(best, nbest, k, c);
	}
	return false;
}

/*
 * load_candidates
 *		Load the pedigree of list[from..n) (their parents are known: the
 *		walk starts one generation up) and set their indexes; with self,
 *		also the searching agent, whose parents are sp1, sp2.
 */
static void
load_candidates(EcsPedigree *ped, Candidate *list, int from, int n,
				char *self, char *sp1, char *sp2)
{
	int			m = Max(n - from, 0) + 1;
	char	  **ids = palloc(sizeof(char *) * m);
	char	  **p1 = palloc(sizeof(char *) * m);
	char	  **p2 = palloc(sizeof(char *) * m);
	int			i,
				nids = 0;

	if (self)
	{
		ids[0] = self;
		p1[0] = sp1;
		p2[0] = sp2;
		nids = 1;
	}
	for (i = from; i < n; i++)
		if (!ecs_pedigree_is_seed(ped, list[i].id))
		{
			ids[nids] = list[i].id;
			p1[nids] = list[i].p1;
			p2[nids] = list[i].p2;
			nids++;
		}
	if (nids > 0)
		ecs_pedigree_load_known(ped, ids, p1, p2, nids);
	for (i = from; i < n; i++)
		list[i].ped = ecs_pedigree_find(ped, list[i].id);
	pfree(ids);
	pfree(p1);
	pfree(p2);
}

/* k must be 1..50 */
static void
check_max_results(int32 k)
{
	if (k < 1 || k > ECS_MAX_RESULTS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_results %d is out of range", k),
				 errdetail("max_results must be between 1 and %d.", ECS_MAX_RESULTS)));
}

/* float8[] datum of n doubles */
static Datum
float8_array(const double *v, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * n);
	int			i;

	for (i = 0; i < n; i++)
		d[i] = Float8GetDatum(v[i]);
	return PointerGetDatum(construct_array(d, n, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * mate_query_datum
 *		The mate query (genome_index.h) of target[] with the catalog's
 *		weights: target || weights as float8[].
 */
static Datum
mate_query_datum(const EcsCatalog *cat, const double *target)
{
	int			n = cat->ntraits;
	double	   *v = palloc(sizeof(double) * 2 * n);

	memcpy(v, target, sizeof(double) * n);
	memcpy(v + n, cat->weight, sizeof(double) * n);
	return float8_array(v, 2 * n);
}

PG_FUNCTION_INFO_V1(ecs_mate_query);

/*
 * ecs_mate_query(agent_id text) float8[]
 *		The mate query of an agent: its targets and the catalog weights,
 *		for ORDER BY genome <~> ecs_mate_query(id).  STRICT; 22023 bad id,
 *		P0002 unknown (or hidden) agent, 22000 genome not matching the
 *		catalog.
 */
Datum
ecs_mate_query(PG_FUNCTION_ARGS)
{
	char	   *id = ecs_agent_id_check(PG_GETARG_TEXT_PP(0), "agent_id");
	MemoryContext cxt = CurrentMemoryContext;
	EcsCatalog *cat;
	EcsAgent	ag;
	double	   *target;
	Datum		result;

	SPI_connect();
	cat = ecs_catalog_load(cxt);
	ecs_agents_fetch(&id, 1, cat, cxt, &ag);
	if (!ag.found)
		ecs_report_unknown_agent(id);
	SPI_finish();
	target = palloc(sizeof(double) * cat->ntraits);
	ecs_genome_target(cat, ag.genome, target);
	result = mate_query_datum(cat, target);
	PG_RETURN_DATUM(result);
}

/*
 * The candidate query, with the extension's schema spliced in as a quoted
 * identifier (the only non-constant text; every value is a $n parameter).
 * The plan is cached per schema.
 */
static const char *const mates_sql =
"SELECT a.agent_id::pg_catalog.text, a.genome OPERATOR(%s.<~>) $1 AS d, "
"       a.parent1_id::pg_catalog.text, a.parent2_id::pg_catalog.text "
"  FROM ecs.agents a "
" WHERE a.active "
"   AND a.agent_id OPERATOR(pg_catalog.<>) $2 "
"   AND a.sex OPERATOR(%s.<!>) $3::pg_catalog.text "
"   AND ($4::pg_catalog.int4 IS NULL OR a.generation OPERATOR(pg_catalog.>=) $4) "
"   AND ($5::pg_catalog.int4 IS NULL OR a.generation OPERATOR(pg_catalog.<=) $5) "
"   AND (NOT $6 OR NOT EXISTS (SELECT FROM ecs.agent_relationships r "
"        WHERE r.kind OPERATOR(pg_catalog.=) 'mate' "
"          AND (r.agent1_id OPERATOR(pg_catalog.=) a.agent_id OR r.agent2_id OPERATOR(pg_catalog.=) a.agent_id))) "
"   AND ($7::pg_catalog.float8 IS NULL OR EXISTS (SELECT FROM ecs.agent_positions p "
"        WHERE p.agent_id OPERATOR(pg_catalog.=) a.agent_id "
"          AND ((pg_catalog.point(p.x, p.y) OPERATOR(pg_catalog.<->) pg_catalog.point($8, $9)) OPERATOR(pg_catalog.<=) $7))) "
" ORDER BY a.genome OPERATOR(%s.<~>) $1 %s";

static const char *const position_sql =
"SELECT x, y FROM ecs.agent_positions WHERE agent_id OPERATOR(pg_catalog.=) $1::pg_catalog.text";

#define MATES_NARGS 10

/*
 * The candidate query of ecs_find_mates: with `LIMIT $10` (limited) or
 * without, for a cursor.  Prepared per schema of the calling function.
 */
static SPIPlanPtr
mates_plan(Oid fn_oid, bool limited)
{
	static Oid	cached_nsp[2] = {InvalidOid, InvalidOid};
	int			slot = limited ? ECS_PLAN_MATES_SCAN : ECS_PLAN_MATES_CURSOR;
	Oid			nsp = get_func_namespace(fn_oid);
	Oid			types[MATES_NARGS] = {FLOAT8ARRAYOID, TEXTOID, TEXTOID, INT4OID, INT4OID,
	BOOLOID, FLOAT8OID, FLOAT8OID, FLOAT8OID, INT8OID};
	SPIPlanPtr	plan;
	const char *qnsp;

	if (nsp == cached_nsp[limited])
		return ecs_plan(slot, NULL, MATES_NARGS, types);
	qnsp = quote_identifier(get_namespace_name(nsp));
	plan = SPI_prepare_cursor(psprintf(mates_sql, qnsp, qnsp, qnsp, limited ? "LIMIT $10" : ""),
							  limited ? MATES_NARGS : MATES_NARGS - 1, types,
							  limited ? CURSOR_OPT_PARALLEL_OK : 0);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	ecs_plan_set(slot, plan);
	cached_nsp[limited] = nsp;
	return plan;
}

/* a parent column as a string in cxt, "" for NULL */
static char *
parent_string(HeapTuple tup, TupleDesc desc, int col, MemoryContext cxt)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return isnull ? "" : MemoryContextStrdup(cxt, TextDatumGetCString(d));
}

/*
 * read_candidates
 *		The rows of SPI_tuptable (id, distance, parents) into list, in
 *		order, up to the first NULL distance (a genome that does not match
 *		the catalog: never a mate; NULLs sort last), which sets *exhausted.
 *		The parents' strings go to cxt.
 */
static int
read_candidates(Candidate *list, bool *exhausted, MemoryContext cxt)
{
	int			n = 0;
	uint64		r;

	for (r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		Datum		d;
		Candidate  *c;

		CHECK_FOR_INTERRUPTS();
		d = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &isnull);
		if (isnull)
		{
			*exhausted = true;
			break;
		}
		c = &list[n++];
		/* 1 - distance: ecs_score_from_l1() bit for bit */
		c->trait = 1.0 - DatumGetFloat8(d);
		c->ped = -1;
		c->row = -1;
		text_to_cstring_buffer(DatumGetTextPP(SPI_getbinval(SPI_tuptable->vals[r],
															SPI_tuptable->tupdesc, 1, &isnull)),
							   c->id, sizeof(c->id));
		c->p1 = parent_string(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 3, cxt);
		c->p2 = parent_string(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 4, cxt);
	}
	return n;
}

/* the arguments of one indexed search (ecs_find_mates; NULL filters off) */
typedef struct MateSearch
{
	char	   *id;
	int32		k;
	bool		has_min_gen,
				has_max_gen,
				has_distance;
	int32		min_gen,
				max_gen;
	bool		exclude_mated;
	double		max_distance;
} MateSearch;

/*
 * search_one
 *		The exact top a->k eligible mates of agent a->id by final score,
 *		ties by mate_id, through the candidate query (ORDER BY genome <~>
 *		query, under the genome index when the planner takes it), into
 *		*best_out (allocated in outcxt); returns how many.  ag is the agent,
 *		found, and ap1, ap2 its parents (ecs_agents_fetch_links).  Inside an
 *		SPI connection; fn_oid is the calling function's (its schema names
 *		the operators).  Errors: P0002 unknown agent (vanished from the
 *		pedigree), 22023 max_distance for an agent without position, 22000
 *		pedigree cycle.
 */
static int
search_one(Oid fn_oid, const EcsCatalog *cat, const MateSearch *a, const EcsAgent *ag,
		   char *ap1, char *ap2, MemoryContext outcxt, Candidate **best_out)
{
	char	   *id = a->id;
	int32		k = a->k;
	double		px = 0.0,
				py = 0.0;
	MemoryContext callcxt,
				oldcxt;
	EcsPedigree *ped;
	double	   *target;
	Candidate  *list,
			   *best;
	int			nlist = 0,
				cap,
				nbest = 0,
				pa;
	int64		fetch;
	MemoryContext roundcxt;
	SPIPlanPtr	plan;
	Datum		values[MATES_NARGS];
	char		nulls[MATES_NARGS];

	callcxt = AllocSetContextCreate(CurrentMemoryContext, "ecs_find_mates",
									ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(callcxt);
	if (a->has_distance)
	{
		Oid			t[1] = {TEXTOID};
		Datum		arg[1];
		bool		isnull;

		arg[0] = CStringGetTextDatum(id);
		if (SPI_execute_plan(ecs_plan(ECS_PLAN_POSITION, position_sql, 1, t), arg, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read the position of agent \"%s\"", id);
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("agent \"%s\" has no position", id),
					 errhint("max_distance needs the agent's position in ecs.agent_positions; pass NULL to search without it.")));
		px = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		py = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		SPI_freetuptable(SPI_tuptable);
	}
	/* the agent's pedigree is loaded with the first candidates' */
	ped = ecs_pedigree_create(callcxt, ecs_kinship_depth);
	pa = -1;
	roundcxt = AllocSetContextCreate(callcxt, "ecs_find_mates round", ALLOCSET_DEFAULT_SIZES);

	target = palloc(sizeof(double) * cat->ntraits);
	ecs_genome_target(cat, ag->genome, target);
	memset(nulls, ' ', sizeof(nulls));
	values[0] = mate_query_datum(cat, target);
	values[1] = CStringGetTextDatum(id);
	if (ag->sex)
		values[2] = CStringGetTextDatum(ag->sex == 'f' ? "female" : "male");
	else
		nulls[2] = 'n';
	if (a->has_min_gen)
		values[3] = Int32GetDatum(a->min_gen);
	else
		nulls[3] = 'n';
	if (a->has_max_gen)
		values[4] = Int32GetDatum(a->max_gen);
	else
		nulls[4] = 'n';
	values[5] = BoolGetDatum(a->exclude_mated);
	if (a->has_distance)
		values[6] = Float8GetDatum(a->max_distance);
	else
		nulls[6] = 'n';
	values[7] = Float8GetDatum(px);
	values[8] = Float8GetDatum(py);

	/*
	 * Rounds of k + margin, then 4x as many candidates, each a fresh
	 * `LIMIT n` query re-ranked from scratch (ties in distance come in no
	 * fixed order, so rounds do not page through one order); past
	 * MATES_MAX_FETCH, one cursor over the whole order, read in chunks.
	 */
	fetch = k + MATES_MARGIN;
	list = palloc(sizeof(Candidate) * Min(fetch, MATES_MAX_FETCH));
	cap = (int) Min(fetch, MATES_MAX_FETCH);
	best = palloc(sizeof(Candidate) * k);
	for (;;)
	{
		bool		limited = fetch <= MATES_MAX_FETCH;
		Portal		portal = NULL;
		bool		done = false;

		plan = mates_plan(fn_oid, limited);
		nbest = 0;
		if (limited)
		{
			int			rc;

			values[9] = Int64GetDatum(fetch);
			rc = SPI_execute_plan(plan, values, nulls, true, 0);
			if (rc != SPI_OK_SELECT)
				elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
		}
		else
			portal = SPI_cursor_open(NULL, plan, values, nulls, true);
		for (;;)
		{
			bool		exhausted = false;
			int			from,
						chunk;

			if (portal)
				SPI_cursor_fetch(portal, true, MATES_MAX_FETCH);
			if ((int64) SPI_processed > cap)
			{
				cap = (int) SPI_processed;
				list = repalloc_huge(list, sizeof(Candidate) * (Size) cap);
			}
			nlist = read_candidates(list, &exhausted, roundcxt);
			if ((int64) SPI_processed < (portal ? MATES_MAX_FETCH : fetch))
				exhausted = true;
			SPI_freetuptable(SPI_tuptable);

			/*
			 * Pedigrees lazily, in chunks of k, then twice as many: without
			 * relatives at the top, the first k candidates' final scores are
			 * their trait scores and the threshold test stops before the
			 * next chunk; the rest of the list needs no kinship.
			 */
			for (from = 0, chunk = k; from < nlist && !done; from += chunk, chunk *= 2)
			{
				int			to = Min(nlist, from + chunk);

				if (threshold_met(best, nbest, k, &list[from]))
				{
					done = true;
					break;
				}

				load_candidates(ped, list, from, to, pa < 0 ? id : NULL, ap1, ap2);
				if (pa < 0)
				{
					pa = ecs_pedigree_find(ped, id);
					if (pa < 0)
						ecs_report_unknown_agent(id);
				}
				if (rerank(ped, pa, list, from, to, best, &nbest, k))
					done = true;
			}
			MemoryContextReset(roundcxt);
			if (exhausted)
				done = true;
			if (done || !portal)
				break;
		}
		if (portal)
		{
			SPI_cursor_close(portal);
			break;
		}
		if (done)
			break;
		fetch *= 4;
	}
	*best_out = MemoryContextAlloc(outcxt, sizeof(Candidate) * Max(nbest, 1));
	memcpy(*best_out, best, sizeof(Candidate) * nbest);
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(callcxt);
	return nbest;
}

PG_FUNCTION_INFO_V1(ecs_find_mates);

/*
 * ecs_find_mates(agent_id text, max_results int, min_generation int,
 *				  max_generation int, exclude_mated bool, max_distance float8)
 *		RETURNS TABLE (mate_id, score, trait_score, relatedness, rank)
 *
 * The exact top max_results eligible mates by final score, ties by mate_id
 * (byte order).  Not STRICT: a NULL agent_id or max_results gives no rows;
 * NULL filters are off (exclude_mated NULL = false).  max_distance keeps
 * candidates with a position within that euclidean distance of the agent's
 * position; the agent must have one.
 * Errors: 22023 bad id, max_results outside 1..50, negative or NaN
 * max_distance, max_distance for an agent without position; P0002 unknown
 * agent; 22000 pedigree cycle.
 */
Datum
ecs_find_mates(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MateSearch	a;
	MemoryContext callcxt,
				oldcxt;
	EcsCatalog *cat;
	EcsAgent	ag;
	char	   *ap1,
			   *ap2;
	Candidate  *best;
	int			nbest,
				i;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
	{
		InitMaterializedSRF(fcinfo, 0);
		return (Datum) 0;
	}
	memset(&a, 0, sizeof(a));
	a.id = ecs_agent_id_check(PG_GETARG_TEXT_PP(0), "agent_id");
	a.k = PG_GETARG_INT32(1);
	check_max_results(a.k);
	a.has_min_gen = !PG_ARGISNULL(2);
	a.min_gen = a.has_min_gen ? PG_GETARG_INT32(2) : 0;
	a.has_max_gen = !PG_ARGISNULL(3);
	a.max_gen = a.has_max_gen ? PG_GETARG_INT32(3) : 0;
	a.exclude_mated = !PG_ARGISNULL(4) && PG_GETARG_BOOL(4);
	a.has_distance = !PG_ARGISNULL(5);
	if (a.has_distance)
	{
		a.max_distance = PG_GETARG_FLOAT8(5);
		if (isnan(a.max_distance) || a.max_distance < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("max_distance %g is invalid", a.max_distance),
					 errhint("Use a distance of at least 0, or NULL for no distance filter.")));
	}

	InitMaterializedSRF(fcinfo, 0);
	callcxt = AllocSetContextCreate(CurrentMemoryContext, "ecs_find_mates call",
									ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(callcxt);
	SPI_connect();
	cat = ecs_catalog_load(callcxt);
	ecs_agents_fetch_links(&a.id, 1, cat, callcxt, &ag, &ap1, &ap2);
	if (!ag.found)
		ecs_report_unknown_agent(a.id);
	nbest = search_one(fcinfo->flinfo->fn_oid, cat, &a, &ag, ap1, ap2, callcxt, &best);
	SPI_finish();

	for (i = 0; i < nbest; i++)
	{
		Datum		out[5];
		bool		outnulls[5] = {false};

		out[0] = CStringGetTextDatum(best[i].id);
		out[1] = Float8GetDatum(best[i].final);
		out[2] = Float8GetDatum(best[i].trait);
		out[3] = Float8GetDatum(best[i].relatedness);
		out[4] = Int32GetDatum(i + 1);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, outnulls);
	}
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(callcxt);
	return (Datum) 0;
}

/*
 * The packed population: every active agent's id, sex, genome and genome
 * codes, read once through SPI (a cursor, in chunks) into contiguous arrays.
 */
typedef struct Population
{
	int			n;
	int			ntraits;
	int			stride;			/* ntraits rounded up to 8; padding is 0 */
	char	   *ids;			/* n * (ECS_AGENT_ID_MAX + 1) */
	char	   *sex;			/* n: 'f', 'm' or '\0' */
	float4	   *genome;			/* n * stride */
	uint8	   *codes;			/* n * ECS_GI_CODES: genome codes (genome_code.c) */
	uint8	   *fast;			/* the same as fast-scan blocks */
	int			nnocode;		/* agents whose genome has no codes */
	int		   *nocode;			/* their positions (always scored exactly) */
	bool	   *coded;			/* n: has codes (else its codes are zero) */
	int32	   *slots;			/* id -> position: open addressing, row + 1 */
	uint32		mask;			/* slots - 1 (a power of two minus one) */
	int32	   *pedidx;			/* n: pedigree index once found, else -1 */
	int			fend;			/* rows [0, fend) are 'f' */
	int			mstart;			/* rows [mstart, n) are 'm'; between, neither */
} Population;

/* agents bounded per kernel call (slot numbers are 16-bit; whole fast-scan blocks) */
#define POP_CHUNK	4096
StaticAssertDecl(POP_CHUNK % ECS_GI_FAST_ROWS == 0, "chunks start on a fast-scan block");

#define POP_ID(p, i)	((p)->ids + (Size) (i) * (ECS_AGENT_ID_MAX + 1))

static const char *const population_sql =
"SELECT agent_id::pg_catalog.text, genome, sex FROM ecs.agents WHERE active";

/*
 * The id index of the population: open addressing with linear probing over
 * a power-of-two table at most half full, each slot the row + 1 (0 empty).
 */
static void
population_index(Population *pop, MemoryContext cxt)
{
	Size		size = 16;
	int			i;

	while (size < (Size) pop->n * 2)
		size *= 2;
	pop->slots = MemoryContextAllocHuge(cxt, sizeof(int32) * size);
	memset(pop->slots, 0, sizeof(int32) * size);
	pop->mask = (uint32) (size - 1);
	for (i = 0; i < pop->n; i++)
	{
		const char *id = POP_ID(pop, i);
		uint32		h = hash_bytes((const unsigned char *) id, strlen(id)) & pop->mask;

		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		while (pop->slots[h] != 0)
			h = (h + 1) & pop->mask;
		pop->slots[h] = i + 1;
	}
}

/* the row of the agent id in the population, or -1 */
static int
population_find(const Population *pop, const char *id)
{
	uint32		h = hash_bytes((const unsigned char *) id, strlen(id)) & pop->mask;

	while (pop->slots[h] != 0)
	{
		int			row = pop->slots[h] - 1;

		if (strcmp(POP_ID(pop, row), id) == 0)
			return row;
		h = (h + 1) & pop->mask;
	}
	return -1;
}

/* exchange rows i and j of every per-agent array but the fast codes */
static void
population_swap(Population *pop, int i, int j, float4 *gtmp)
{
	char		idtmp[ECS_AGENT_ID_MAX + 1];
	uint8		ctmp[ECS_GI_CODES];
	Size		gsz = sizeof(float4) * pop->stride;
	char		c;
	bool		b;

	if (i == j)
		return;
	memcpy(idtmp, POP_ID(pop, i), sizeof(idtmp));
	memcpy(POP_ID(pop, i), POP_ID(pop, j), sizeof(idtmp));
	memcpy(POP_ID(pop, j), idtmp, sizeof(idtmp));
	memcpy(gtmp, pop->genome + (Size) i * pop->stride, gsz);
	memcpy(pop->genome + (Size) i * pop->stride, pop->genome + (Size) j * pop->stride, gsz);
	memcpy(pop->genome + (Size) j * pop->stride, gtmp, gsz);
	memcpy(ctmp, pop->codes + (Size) i * ECS_GI_CODES, ECS_GI_CODES);
	memcpy(pop->codes + (Size) i * ECS_GI_CODES, pop->codes + (Size) j * ECS_GI_CODES, ECS_GI_CODES);
	memcpy(pop->codes + (Size) j * ECS_GI_CODES, ctmp, ECS_GI_CODES);
	c = pop->sex[i];
	pop->sex[i] = pop->sex[j];
	pop->sex[j] = c;
	b = pop->coded[i];
	pop->coded[i] = pop->coded[j];
	pop->coded[j] = b;
}

/*
 * population_partition
 *		Order the rows by sex, 'f' first and 'm' last (a three-way
 *		partition, in place), and list the rows without codes.  A search
 *		for a mate of one sex then scans one contiguous range: half the
 *		population's codes (population_range).  Row order decides nothing
 *		but pruning: every path breaks ties by id.
 */
static void
population_partition(Population *pop)
{
	float4	   *gtmp = palloc(sizeof(float4) * pop->stride);
	int			lo = 0,
				mid = 0,
				hi = pop->n;
	int			i;

	while (mid < hi)
	{
		if ((mid & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		if (pop->sex[mid] == 'f')
			population_swap(pop, lo++, mid++, gtmp);
		else if (pop->sex[mid] == 'm')
			population_swap(pop, mid, --hi, gtmp);
		else
			mid++;
	}
	pop->fend = lo;
	pop->mstart = hi;
	pfree(gtmp);
	pop->nnocode = 0;
	for (i = 0; i < pop->n; i++)
		if (!pop->coded[i])
		{
			if (pop->nnocode >= 16 && (pop->nnocode & (pop->nnocode - 1)) == 0)
				pop->nocode = repalloc_huge(pop->nocode, sizeof(int) * (Size) pop->nnocode * 2);
			pop->nocode[pop->nnocode++] = i;
		}
}

/*
 * population_range
 *		The rows [*lo, *hi) a search for a mate of an agent of this sex
 *		scans: past the 'f' rows for 'f', before the 'm' rows for 'm', all
 *		otherwise.  *lo is a multiple of ECS_GI_FAST_ROWS (fast-scan blocks
 *		start there), so the range may hold up to ECS_GI_FAST_ROWS - 1 rows
 *		of the agent's own sex at each end; the scan skips them as it skips
 *		any agent of the same sex.
 */
static void
population_range(const Population *pop, char sex, int *lo, int *hi)
{
	*lo = 0;
	*hi = pop->n;
	if (sex == 'f')
		*lo = pop->fend - pop->fend % ECS_GI_FAST_ROWS;
	else if (sex == 'm')
		*hi = pop->mstart;
}

static double agents_reltuples(void);

/* most rows the packed arrays are first sized for (about 150 MB) */
#define POP_PRESIZE_MAX	(1 << 20)

/* the state of population_load's read */
typedef struct PopLoad
{
	Population *pop;
	const EcsCatalog *cat;
	float4	   *gbuf;
	int			cap;
} PopLoad;

/* room for cap rows in every per-agent array */
static void
population_reserve(Population *pop, int oldcap, int cap)
{
	if ((Size) cap > MaxAllocHugeSize / sizeof(float4) / pop->stride ||
		(Size) cap > MaxAllocHugeSize / (ECS_AGENT_ID_MAX + 1))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many active agents to pack in memory")));
	if (oldcap == 0)
	{
		MemoryContext cxt = GetMemoryChunkContext(pop);

		pop->ids = MemoryContextAllocHuge(cxt, (Size) cap * (ECS_AGENT_ID_MAX + 1));
		pop->sex = MemoryContextAllocHuge(cxt, cap);
		pop->genome = MemoryContextAllocHuge(cxt, sizeof(float4) * (Size) cap * pop->stride);
		pop->codes = MemoryContextAllocHuge(cxt, (Size) cap * ECS_GI_CODES);
		pop->coded = MemoryContextAllocHuge(cxt, cap);
		return;
	}
	pop->ids = repalloc_huge(pop->ids, (Size) cap * (ECS_AGENT_ID_MAX + 1));
	pop->sex = repalloc_huge(pop->sex, cap);
	pop->genome = repalloc_huge(pop->genome, sizeof(float4) * (Size) cap * pop->stride);
	pop->codes = repalloc_huge(pop->codes, (Size) cap * ECS_GI_CODES);
	pop->coded = repalloc_huge(pop->coded, cap);
}

/* one row of population_sql (agent_id, genome, sex), streamed */
static void
population_row(Datum *values, bool *nulls, void *arg)
{
	PopLoad    *pl = (PopLoad *) arg;
	Population *pop = pl->pop;
	int			nt = pl->cat->ntraits;
	const float4 *g;

	CHECK_FOR_INTERRUPTS();
	if (nulls[0] || nulls[1])
		return;
	/* as ecs_genome_score: a genome of another shape is never a mate */
	g = ecs_genome_read(values[1], pl->gbuf, nt);
	if (g == NULL)
		return;
	if (pop->n >= pl->cap)
	{
		if (pl->cap >= INT_MAX / 2)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many active agents to pack in memory")));
		population_reserve(pop, pl->cap, pl->cap * 2);
		pl->cap *= 2;
	}
	text_to_cstring_buffer(DatumGetTextPP(values[0]), POP_ID(pop, pop->n), ECS_AGENT_ID_MAX + 1);
	if (nulls[2] || VARSIZE_ANY_EXHDR(DatumGetTextPP(values[2])) == 0)
		pop->sex[pop->n] = '\0';
	else
		pop->sex[pop->n] = *VARDATA_ANY(DatumGetTextPP(values[2]));
	memset(pop->genome + (Size) pop->n * pop->stride, 0, sizeof(float4) * pop->stride);
	memcpy(pop->genome + (Size) pop->n * pop->stride, g, sizeof(float4) * nt);
	pop->coded[pop->n] = ecs_genome_encode_values(g, nt, pop->codes + (Size) pop->n * ECS_GI_CODES);
	pop->n++;
}

/*
 * population_load
 *		Read the active agents into a packed population (connected to SPI;
 *		result in cxt).  The rows stream from the executor (no copies); the
 *		arrays are first sized for the table's row estimate est
 *		(agents_reltuples(), -1 when none), up to
 *		POP_PRESIZE_MAX rows, so that they rarely grow (each growth copies
 *		them); past that they double.
 */
static Population *
population_load(const EcsCatalog *cat, double est, MemoryContext cxt)
{
	SPIPlanPtr	plan = ecs_plan(ECS_PLAN_MATES_SCAN_ALL, population_sql, 0, NULL);
	Population *pop = MemoryContextAllocZero(cxt, sizeof(Population));
	PopLoad		pl;

	pop->ntraits = cat->ntraits;
	pop->stride = (cat->ntraits + 7) & ~7;
	pop->nocode = MemoryContextAlloc(cxt, sizeof(int) * 16);
	pl.pop = pop;
	pl.cat = cat;
	pl.gbuf = palloc(sizeof(float4) * cat->ntraits);
	pl.cap = (int) Max(1024.0, Min(est + 1.0, (double) POP_PRESIZE_MAX));
	population_reserve(pop, 0, pl.cap);
	ecs_spi_each_row(plan, 0, NULL, NULL, population_row, &pl);
	pfree(pl.gbuf);
	population_partition(pop);
	pop->pedidx = MemoryContextAllocHuge(cxt, sizeof(int32) * (Size) Max(pop->n, 1));
	memset(pop->pedidx, 0xFF, sizeof(int32) * (Size) Max(pop->n, 1));	/* -1 */
	pop->fast = MemoryContextAllocHuge(cxt, (Size) Max(ECS_GI_FAST_BLOCKS(pop->n), 1) * ECS_GI_FAST_BYTES);
	ecs_genome_fast_pack(pop->codes, pop->n, pop->fast);
	population_index(pop, cxt);
	return pop;
}

/*
 * The m best candidates of a scan, kept as a binary heap whose root is the
 * worst of them (lowest trait score; ties: the larger id), so that each
 * insertion costs O(log m) whatever m (lists grow to thousands when
 * relatives crowd the top).  heap_worse(a, b): a ranks after b.
 */
static inline bool
heap_worse(const Candidate *a, const Candidate *b)
{
	return rank_cmp(a->trait, a->id, b->trait, b->id) > 0;
}

static void
heap_sift_down(Candidate *h, int n, int i)
{
	Candidate	x = h[i];

	for (;;)
	{
		int			c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && heap_worse(&h[c + 1], &h[c]))
			c++;
		if (!heap_worse(&h[c], &x))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

/* offer (l1, score, id) of population row row to the heap list[0..*n) of at most m */
static void
list_insert(Candidate *list, int *n, int m, double l1, double score, const char *id, int row)
{
	Candidate	c;
	int			i;

	if (*n == m && rank_cmp(score, id, list[0].trait, list[0].id) >= 0)
		return;					/* not better than the worst kept */
	memset(&c, 0, sizeof(c));
	strlcpy(c.id, id, sizeof(c.id));
	c.trait = score;
	c.l1 = l1;
	c.ped = -1;
	c.row = row;
	if (*n == m)
	{
		list[0] = c;
		heap_sift_down(list, m, 0);
		return;
	}
	i = (*n)++;
	while (i > 0 && heap_worse(&c, &list[(i - 1) / 2]))
	{
		list[i] = list[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	list[i] = c;
}

static int
candidate_rank_cmp(const void *x, const void *y)
{
	const Candidate *a = (const Candidate *) x;
	const Candidate *b = (const Candidate *) y;

	return rank_cmp(a->trait, a->id, b->trait, b->id);
}

/*
 * Scanning the population
 *		The m eligible candidates of best trait score for an agent with
 *		genome g, sex, and position self in pop (-1 when not in it), into
 *		list, sorted by (trait desc, id asc).
 *
 * Filter and refine, as the genome index does: the code kernels
 * (genome_code.c) bound every agent's distance from below, in chunks;
 * only agents whose bound does not exceed the m-th best distance so far are
 * scored exactly, in double and in catalog order with ecs_weighted_l1(),
 * so scores and ties match every other path bit for bit.  Agents without
 * codes are scored exactly, always.
 *
 * Several agents of one sex are scanned together, chunk by chunk
 * (scan_searches): a chunk's codes (POP_CHUNK agents, 96 kB) stay in cache
 * while every agent of the group bounds them, instead of each agent
 * streaming the whole population's codes from memory.  The population is
 * ordered by sex, so a search reads only the rows of the other sex (and of
 * none): about half (population_partition).  Until a list is full the
 * bounds cannot cut; its first SEED_ROWS rows are bounded alone and the
 * lowest bounds scored first, so the cut is set early (popscan_chunk).
 */
typedef struct PopScan
{
	char		sex;
	int			self;
	Candidate  *list;
	int			m;
	int			n;				/* listed so far */
	double	   *target;
	EcsGenomeQuery q;
	EcsGenomeFastLut lut;
	double		bound;			/* the m-th best distance, once n == m */
	double		l1_per_unit;	/* an integer bound S is a lower bound of S * this */
	uint32		cut;			/* bounds above it are out */
} PopScan;

/* agents scanned together */
#define POP_GROUP	16

static void
popscan_begin(PopScan *ps, const EcsCatalog *cat, const float4 *g, char sex, int self,
			  Candidate *list, int m)
{
	ps->sex = sex;
	ps->self = self;
	ps->list = list;
	ps->m = m;
	ps->n = 0;
	ps->target = palloc(sizeof(double) * cat->ntraits);
	ecs_genome_target(cat, g, ps->target);
	ps->q.n = cat->ntraits;
	ps->q.target = ps->target;
	ps->q.weight = cat->weight;
	ps->q.wsum = cat->weight_sum;
	ecs_genome_query_codes(&ps->q);
	ps->l1_per_unit = ps->q.bound_scale * ps->q.wsum;
	ps->lut.scale = 0;
	ps->bound = INFINITY;
	ps->cut = PG_UINT32_MAX;
}

/* offer row j of the population, of integer bound b (coded rows) */
static inline void
popscan_offer(PopScan *ps, const Population *pop, const EcsCatalog *cat, int j,
			  bool coded_row, uint32 b)
{
	double		sum;

	/* the cut tightens within a chunk: its first one is unbounded */
	if ((coded_row && b > ps->cut) || j == ps->self ||
		(ps->sex && pop->sex[j] && pop->sex[j] == ps->sex) ||
		(coded_row && !pop->coded[j]))
		return;
	sum = ecs_weighted_l1(ps->target, cat->weight, pop->genome + (Size) j * pop->stride,
						  cat->ntraits);
	if (ps->n == ps->m && sum > ps->bound)
		return;
	list_insert(ps->list, &ps->n, ps->m, sum, ecs_score_from_l1(sum, cat->weight_sum),
				POP_ID(pop, j), j);
	if (ps->n == ps->m)
	{
		ps->bound = ps->list[0].l1 * (1.0 + 1e-9) + 1e-12;
		if (ps->l1_per_unit > 0.0)
			ps->cut = (uint32) Min(floor(ps->bound / ps->l1_per_unit) + 1.0,
								   (double) PG_UINT32_MAX);
	}
}

/* rows bounded without a cut while a list is not full */
#define SEED_ROWS	512
StaticAssertDecl(SEED_ROWS % ECS_GI_FAST_ROWS == 0, "seed windows end on a fast-scan block");

/* histogram buckets of seed_bound(): bounds are below 2^18 (genome_code.c) */
#define SEED_SHIFT	8
#define SEED_BUCKETS 1024

/*
 * seed_bound
 *		A value v such that at least want of bounds[0..n) are <= v and few
 *		more (a histogram of 256-wide buckets); want <= n.
 */
static uint32
seed_bound(const uint32 *bounds, int n, int want)
{
	uint16		hist[SEED_BUCKETS];
	int			i,
				sum = 0;

	memset(hist, 0, sizeof(hist));
	for (i = 0; i < n; i++)
		hist[Min(bounds[i] >> SEED_SHIFT, SEED_BUCKETS - 1)]++;
	for (i = 0; i < SEED_BUCKETS - 1; i++)
	{
		sum += hist[i];
		if (sum >= want)
			return ((uint32) (i + 1) << SEED_SHIFT) - 1;
	}
	return PG_UINT32_MAX;
}

/*
 * The rows to score are scattered in large arrays: prefetched all at once,
 * before any is scored, their misses overlap (they were most of a batch's
 * exact-scoring time).
 */
static inline void
popscan_prefetch(const Population *pop, int j)
{
	__builtin_prefetch(pop->genome + (Size) j * pop->stride);
	__builtin_prefetch(POP_ID(pop, j));
}

/*
 * popscan_filter
 *		The agents of the len rows at c (a multiple of ECS_GI_FAST_ROWS,
 *		len <= POP_CHUNK) whose bound is within the cut, with their bounds
 *		(all of them while the list is not full, not prefetched: the seed
 *		prefetches its own); the genome and id of each are prefetched, for
 *		popscan_offer_rows.  Returns how many.
 */
static int
popscan_filter(PopScan *ps, const Population *pop, int c, int len, uint32 *bounds, uint16 *idx)
{
	int			nb,
				i;

	if (ps->cut == PG_UINT32_MAX)
		return ecs_genome_bounds_below(&ps->q, pop->codes + (Size) c * ECS_GI_CODES,
									   len, ps->cut, bounds, idx);
	nb = ecs_genome_fast_below(&ps->q, &ps->lut,
							   pop->fast + (Size) (c / ECS_GI_FAST_ROWS) * ECS_GI_FAST_BYTES,
							   pop->codes + (Size) c * ECS_GI_CODES,
							   len, ps->cut, bounds, idx);
	for (i = 0; i < nb; i++)
		popscan_prefetch(pop, c + idx[i]);
	return nb;
}

/*
 * popscan_offer_rows
 *		Offer the nb rows popscan_filter() returned for the chunk at c.
 *
 * While the list is not full, those are every row of the chunk: the ones
 * of the lowest bounds (twice as many as the list lacks) are offered first,
 * so that the list fills with good candidates and the cut drops at once;
 * then the rest, most of which the cut now rules out before any exact
 * score.
 */
static void
popscan_offer_rows(PopScan *ps, const Population *pop, const EcsCatalog *cat, int c, int nb,
				   const uint32 *bounds, const uint16 *idx)
{
	int			want = 2 * (ps->m - ps->n);
	bool		seeded = false;
	uint32		seed = 0;
	int			i;

	if (ps->n < ps->m && want < nb)
	{
		seeded = true;
		seed = seed_bound(bounds, nb, want);
		for (i = 0; i < nb; i++)
			if (bounds[i] <= seed)
				popscan_prefetch(pop, c + idx[i]);
		for (i = 0; i < nb; i++)
			if (bounds[i] <= seed)
				popscan_offer(ps, pop, cat, c + idx[i], true, bounds[i]);
	}
	for (i = 0; i < nb; i++)
		if ((!seeded || bounds[i] > seed) && bounds[i] <= ps->cut)
			popscan_offer(ps, pop, cat, c + idx[i], true, bounds[i]);
}

/*
 * popscan_chunk
 *		Offer the agents without codes (c = -1), or the len agents of the
 *		chunk at c.  While the list is not full, the first SEED_ROWS rows
 *		are offered alone (every row of them is scored by its bound, no
 *		cut): the cut they set lets the fast scan bound the rest.
 */
static void
popscan_chunk(PopScan *ps, const Population *pop, const EcsCatalog *cat, int c, int len,
			  uint32 *bounds, uint16 *idx)
{
	int			i;

	if (c < 0)
	{
		for (i = 0; i < pop->nnocode; i++)
			popscan_offer(ps, pop, cat, pop->nocode[i], false, 0);
		return;
	}
	if (ps->cut == PG_UINT32_MAX && len > SEED_ROWS)
	{
		popscan_chunk(ps, pop, cat, c, SEED_ROWS, bounds, idx);
		popscan_chunk(ps, pop, cat, c + SEED_ROWS, len - SEED_ROWS, bounds, idx);
		return;
	}
	popscan_offer_rows(ps, pop, cat, c, popscan_filter(ps, pop, c, len, bounds, idx),
					   bounds, idx);
}

/* the list in rank order (trait desc, id asc); returns its length */
static int
popscan_end(PopScan *ps)
{
	qsort(ps->list, ps->n, sizeof(Candidate), candidate_rank_cmp);
	pfree(ps->target);
	return ps->n;
}

/* one agent searched by the batch or the pairing */
typedef struct Search
{
	const char *id;
	const float4 *genome;
	char		sex;
	int			self;			/* position in the population, or -1 */
	int			ped;			/* pedigree index */
	int			m;				/* list length asked for */
	int			nlist;
	Candidate  *list;
	int			nbest;
	Candidate  *best;
	bool		done;
	int			loaded;			/* list[0..loaded) have pedigrees, re-ranked */
	bool		settled;		/* nothing more to load for this round */
} Search;

/*
 * agents_reltuples
 *		The planner's estimate of the rows of ecs.agents (pg_class.reltuples,
 *		from the catalog cache, not the table), or -1 when it has none.
 */
static double
agents_reltuples(void)
{
	Oid			rel = ecs_table_oid("agents");
	HeapTuple	tup;
	double		r = -1.0;

	if (!OidIsValid(rel))
		return r;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(rel));
	if (HeapTupleIsValid(tup))
	{
		r = ((Form_pg_class) GETSTRUCT(tup))->reltuples;
		ReleaseSysCache(tup);
	}
	return r;
}

/*
 * pedigree_load_searched
 *		Load the pedigree for searches of k mates from ids[0..n) among npop
 *		active agents (search_all), the cheaper way: walks from the agents
 *		searched (and then, lazily, from their candidates), or one read of
 *		every agent's links (ecs_pedigree_load_all), after which the lazy
 *		loads find every visible agent loaded.  The same values either way.
 *
 * Walks cost one index probe per ancestor: the agent and its first k + 1
 * candidates, up to 2^(depth + 1) - 1 agents each, fewer where pedigrees
 * collapse or overlap.  The read costs one row per agent of the table
 * (visible or not, active or not), a fraction of a probe each.  Rule:
 *
 *		read everything when  n * (k + 2) * 2^depth >= rows
 *
 * with rows = max(npop, est), est the table's reltuples estimate
 * (agents_reltuples()).
 */
static void
pedigree_load_searched(EcsPedigree *ped, char **ids, int n, int npop, double est, int k)
{
	double		walks = (double) n * (k + 2) * ldexp(1.0, Min(ecs_kinship_depth, 60));
	double		rows = Max((double) npop, est);

	if (n > 0 && walks >= rows)
	{
		ecs_pedigree_load_all(ped);
		elog(DEBUG1, "pedigree for %d searched agents: read whole", n);
	}
	else
	{
		ecs_pedigree_load(ped, ids, n);
		elog(DEBUG1, "pedigree for %d searched agents: walked", n);
	}
}

/* the rank of a sex in the population's order: 'f', neither, 'm' */
static inline int
sex_class(char sex)
{
	return sex == 'f' ? 0 : (sex == 'm' ? 2 : 1);
}

/*
 * scan_searches
 *		The lists of the pending searches s[first..last] (list allocated,
 *		m set), POP_GROUP agents of one sex at a time, chunk by chunk over
 *		the rows of the other sex (population_range).
 */
static void
scan_searches(const Population *pop, const EcsCatalog *cat, Search *s, int first, int last)
{
	uint32	   *bounds = palloc(sizeof(uint32) * POP_CHUNK);
	uint16	   *idx = palloc(sizeof(uint16) * POP_CHUNK);
	int		   *order = palloc(sizeof(int) * (last - first + 1));
	PopScan		ps[POP_GROUP];
	int			who[POP_GROUP];
	int			norder = 0,
				cls,
				i;

	for (cls = 0; cls < 3; cls++)
		for (i = first; i <= last; i++)
			if (!s[i].done && sex_class(s[i].sex) == cls)
				order[norder++] = i;
	i = 0;
	while (i < norder)
	{
		int			ng = 0,
					g,
					c,
					lo,
					hi;
		char		sex = s[order[i]].sex;

		for (; i < norder && ng < POP_GROUP && s[order[i]].sex == sex; i++)
		{
			Search	   *si = &s[order[i]];

			who[ng] = order[i];
			popscan_begin(&ps[ng++], cat, si->genome, si->sex, si->self, si->list, si->m);
		}
		/* the agents without codes; then chunks of POP_CHUNK agents */
		for (g = 0; g < ng; g++)
			popscan_chunk(&ps[g], pop, cat, -1, 0, bounds, idx);
		population_range(pop, sex, &lo, &hi);
		for (c = lo; c < hi; c += POP_CHUNK)
		{
			CHECK_FOR_INTERRUPTS();
			for (g = 0; g < ng; g++)
				popscan_chunk(&ps[g], pop, cat, c, Min(POP_CHUNK, hi - c), bounds, idx);
		}
		for (g = 0; g < ng; g++)
			s[who[g]].nlist = popscan_end(&ps[g]);
	}
	pfree(order);
	pfree(bounds);
	pfree(idx);
}

/*
 * candidate_ped
 *		ecs_pedigree_find() for a listed candidate, remembered per population
 *		row once found (a node, once loaded, stays loaded at that index):
 *		popular candidates are in many lists.
 */
static int
candidate_ped(Population *pop, EcsPedigree *ped, const Candidate *c)
{
	int			x;

	if (c->row >= 0 && pop->pedidx[c->row] >= 0)
		return pop->pedidx[c->row];
	x = ecs_pedigree_find(ped, c->id);
	if (x >= 0 && c->row >= 0)
		pop->pedidx[c->row] = x;
	return x;
}

/*
 * search_all
 *		Exact top-k for every search: scan, load the pedigree of all lists
 *		at once, re-rank; searches whose list ran out before the threshold
 *		was met scan again with a longer list.  Connected to SPI.
 */
static void
search_all(Population *pop, const EcsCatalog *cat, EcsPedigree *ped, Search *s, int ns, int k)
{
	int			i;
	int			next = 0;		/* first search not yet done, roughly */

	for (i = 0; i < ns; i++)
	{
		s[i].m = k + MATES_BATCH_MARGIN;
		s[i].best = palloc(sizeof(Candidate) * k);
		s[i].done = false;
		s[i].list = NULL;
	}

	/*
	 * Rounds over chunks of pending searches whose lists add up to at most
	 * MATES_MAX_LISTED candidates (one search may exceed it alone): that
	 * bounds the memory of the lists whatever the population and however
	 * many searches need longer lists.
	 */
	for (;;)
	{
		char	  **ids;
		int			nids = 0;
		int			listed = 0;
		int			step;
		int			chunk[2] = {-1, -1};	/* [first, last] search of the chunk */

		while (next < ns && s[next].done)
			next++;
		if (next >= ns)
			break;
		for (i = next; i < ns; i++)
		{
			if (s[i].done)
				continue;
			if (listed > 0 && listed + s[i].m > MATES_MAX_LISTED)
				break;
			s[i].list = palloc(sizeof(Candidate) * s[i].m);
			listed += s[i].m;
			if (chunk[0] < 0)
				chunk[0] = i;
			chunk[1] = i;
		}
		scan_searches(pop, cat, s, chunk[0], chunk[1]);

		/*
		 * Pedigrees lazily, as ecs_find_mates does: one walk for the first
		 * k + 1 candidates of every pending list, re-rank, then one walk for
		 * the next chunk (twice as long) of the lists not settled yet.
		 */
		for (i = chunk[0]; i <= chunk[1]; i++)
		{
			s[i].settled = s[i].done;	/* done in an earlier round: keep its best */
			if (s[i].done)
				continue;
			s[i].nbest = 0;
			s[i].loaded = 0;
		}
		for (step = k + 1;; step *= 2)
		{
			bool		pending = false;

			ids = palloc(sizeof(char *) * Max(listed, 1));
			nids = 0;
			for (i = chunk[0]; i <= chunk[1]; i++)
			{
				int			j;

				if (s[i].settled)
					continue;
				for (j = s[i].loaded; j < Min(s[i].nlist, s[i].loaded + step); j++)
				{
					int			x = candidate_ped(pop, ped, &s[i].list[j]);

					if (x < 0 || !ecs_pedigree_node_is_seed(ped, x))
						ids[nids++] = s[i].list[j].id;
				}
			}
			ecs_pedigree_load(ped, ids, nids);
			pfree(ids);

			for (i = chunk[0]; i <= chunk[1]; i++)
			{
				int			j,
							to;

				if (s[i].settled)
					continue;
				to = Min(s[i].nlist, s[i].loaded + step);
				for (j = s[i].loaded; j < to; j++)
					s[i].list[j].ped = candidate_ped(pop, ped, &s[i].list[j]);
				if (rerank(ped, s[i].ped, s[i].list, s[i].loaded, to, s[i].best, &s[i].nbest, k))
					s[i].done = s[i].settled = true;
				else if (to == s[i].nlist)
				{
					/* list read to its end without the threshold met */
					s[i].settled = true;
					if (s[i].nlist < s[i].m || s[i].m >= pop->n)
						s[i].done = true;
					else
						s[i].m = (int) Min((int64) s[i].m * 4, (int64) pop->n);
				}
				s[i].loaded = to;
				pending |= !s[i].settled;
			}
			if (!pending)
				break;
		}
		for (i = chunk[0]; i <= chunk[1]; i++)
			if (s[i].list)
			{
				pfree(s[i].list);
				s[i].list = NULL;
			}
	}
}

/*
 * A batch of few agents next to the table searches each through the genome
 * index, as ecs_find_mates does (about 1-2 ms an agent at 100k-1M agents),
 * instead of reading the whole population first (about 0.8 s at 1M): when
 * the index exists, index scans are enabled, and
 *
 *		agents * MATES_INDEXED_RATIO < rows of ecs.agents (reltuples)
 *
 * (break-even about 430 agents at 1M and 150 at 100k, from the measured
 * costs of the population read and of single calls).  The
 * answers are the same either way: both are the exact top k by final score.
 */
#define MATES_INDEXED_RATIO	2000

/* the access method of an index (pg_class.relam) */
static Oid
index_relam(Oid indexoid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(indexoid));
	Oid			am = InvalidOid;

	if (HeapTupleIsValid(tup))
	{
		am = ((Form_pg_class) GETSTRUCT(tup))->relam;
		ReleaseSysCache(tup);
	}
	return am;
}

/*
 * agents_genome_indexed
 *		Whether ecs.agents has a valid, non-partial ecs_genome index on
 *		genome (its first column) and index scans are enabled.
 */
static bool
agents_genome_indexed(void)
{
	Oid			rel = ecs_table_oid("agents");
	Oid			am = get_index_am_oid("ecs_genome", true);
	Relation	r;
	List	   *indexes;
	ListCell   *lc;
	AttrNumber	genome;
	bool		found = false;

	if (!OidIsValid(rel) || !OidIsValid(am) || !enable_indexscan)
		return false;
	genome = get_attnum(rel, "genome");
	if (genome == InvalidAttrNumber)
		return false;
	r = table_open(rel, AccessShareLock);
	indexes = RelationGetIndexList(r);
	foreach(lc, indexes)
	{
		HeapTuple	itup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_index ind;

		if (!HeapTupleIsValid(itup))
			continue;
		ind = (Form_pg_index) GETSTRUCT(itup);
		if (ind->indisvalid && ind->indnkeyatts >= 1 && ind->indkey.values[0] == genome &&
			heap_attisnull(itup, Anum_pg_index_indpred, NULL) &&
			index_relam(ind->indexrelid) == am)
			found = true;
		ReleaseSysCache(itup);
		if (found)
			break;
	}
	list_free(indexes);
	table_close(r, AccessShareLock);
	return found;
}

/*
 * batch_indexed
 *		The batch as one ecs_find_mates search per agent (see
 *		MATES_INDEXED_RATIO), rows to rsinfo in ids' order.  Every agent is
 *		read first, with its parents, in one query: an unknown one is
 *		reported (P0002) before any search, as the population path does.
 */
static void
batch_indexed(ReturnSetInfo *rsinfo, Oid fn_oid, const EcsCatalog *cat, char **ids, int n,
			  int32 k, MemoryContext cxt)
{
	EcsAgent   *ag = MemoryContextAlloc(cxt, sizeof(EcsAgent) * n);
	char	  **p1 = MemoryContextAlloc(cxt, sizeof(char *) * n);
	char	  **p2 = MemoryContextAlloc(cxt, sizeof(char *) * n);
	int			i,
				j;

	ecs_agents_fetch_links(ids, n, cat, cxt, ag, p1, p2);
	for (i = 0; i < n; i++)
		if (!ag[i].found)
			ecs_report_unknown_agent(ids[i]);
	for (i = 0; i < n; i++)
	{
		MateSearch	a;
		Candidate  *best;
		int			nbest;

		CHECK_FOR_INTERRUPTS();
		memset(&a, 0, sizeof(a));
		a.id = ids[i];
		a.k = k;
		nbest = search_one(fn_oid, cat, &a, &ag[i], p1[i], p2[i], cxt, &best);
		for (j = 0; j < nbest; j++)
		{
			Datum		out[4];
			bool		outnulls[4] = {false};

			out[0] = CStringGetTextDatum(ids[i]);
			out[1] = CStringGetTextDatum(best[j].id);
			out[2] = Float8GetDatum(best[j].final);
			out[3] = Int32GetDatum(j + 1);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, outnulls);
		}
		pfree(best);
	}
}

PG_FUNCTION_INFO_V1(ecs_find_mates_batch);

/*
 * ecs_find_mates_batch(agent_ids text[], max_results int)
 *		RETURNS TABLE (agent_id, mate_id, score, rank)
 *
 * For each distinct agent of agent_ids, in first-occurrence order, the rows
 * ecs_find_mates(agent_id, max_results) returns (no filters).  STRICT.
 * Errors: 22023 bad id, NULL element, 2-D array, max_results outside
 * 1..50; P0002 unknown agent.
 */
Datum
ecs_find_mates_batch(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int32		k = PG_GETARG_INT32(1);
	MemoryContext callcxt,
				oldcxt;
	char	  **ids,
			  **distinct;
	int			n,
				nd,
				i,
				j;
	int		   *map;
	char	  **missing;
	int			nmissing = 0;
	EcsCatalog *cat;
	EcsAgent   *ag;
	Population *pop;
	EcsPedigree *ped;
	Search	   *s;
	double		est;

	check_max_results(k);
	InitMaterializedSRF(fcinfo, 0);
	callcxt = AllocSetContextCreate(CurrentMemoryContext, "ecs_find_mates_batch",
									ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(callcxt);
	ids = ecs_ids_argument(PG_GETARG_ARRAYTYPE_P(0), "agent_ids", &n, NULL);
	if (n == 0)
	{
		MemoryContextSwitchTo(oldcxt);
		MemoryContextDelete(callcxt);
		return (Datum) 0;
	}
	map = palloc(sizeof(int) * n);
	distinct = ecs_distinct_agents(ids, n, map, &nd);

	SPI_connect();
	cat = ecs_catalog_load(callcxt);
	est = agents_reltuples();
	if ((double) nd * MATES_INDEXED_RATIO < est && agents_genome_indexed())
	{
		batch_indexed(rsinfo, fcinfo->flinfo->fn_oid, cat, distinct, nd, k, callcxt);
		SPI_finish();
		MemoryContextSwitchTo(oldcxt);
		MemoryContextDelete(callcxt);
		return (Datum) 0;
	}
	pop = population_load(cat, est, callcxt);

	/*
	 * The agents of the population (active, with a genome of the catalog's
	 * shape) are read already; the others (inactive or unknown) are fetched.
	 */
	s = MemoryContextAllocZero(callcxt, sizeof(Search) * nd);
	missing = palloc(sizeof(char *) * nd);
	for (i = 0; i < nd; i++)
	{
		int			row = population_find(pop, distinct[i]);

		s[i].id = distinct[i];
		s[i].self = row;
		if (row >= 0)
		{
			s[i].genome = pop->genome + (Size) row * pop->stride;
			s[i].sex = pop->sex[row];
		}
		else
			missing[nmissing++] = distinct[i];
	}
	if (nmissing > 0)
	{
		ag = MemoryContextAlloc(callcxt, sizeof(EcsAgent) * nmissing);
		ecs_agents_fetch(missing, nmissing, cat, callcxt, ag);
		for (i = 0, j = 0; i < nd; i++)
			if (s[i].self < 0)
			{
				if (!ag[j].found)
					ecs_report_unknown_agent(distinct[i]);
				s[i].genome = ag[j].genome;
				s[i].sex = ag[j].sex;
				j++;
			}
	}
	ped = ecs_pedigree_create(callcxt, ecs_kinship_depth);
	pedigree_load_searched(ped, distinct, nd, pop->n, est, k);
	for (i = 0; i < nd; i++)
	{
		s[i].ped = ecs_pedigree_find(ped, distinct[i]);
		if (s[i].ped < 0)
			ecs_report_unknown_agent(distinct[i]);
	}
	MemoryContextSwitchTo(callcxt);
	search_all(pop, cat, ped, s, nd, k);
	SPI_finish();

	for (i = 0; i < nd; i++)
	{
		for (j = 0; j < s[i].nbest; j++)
		{
			Datum		out[4];
			bool		outnulls[4] = {false};

			out[0] = CStringGetTextDatum(s[i].id);
			out[1] = CStringGetTextDatum(s[i].best[j].id);
			out[2] = Float8GetDatum(s[i].best[j].final);
			out[3] = Int32GetDatum(j + 1);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, outnulls);
		}
	}
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(callcxt);
	return (Datum) 0;
}

typedef struct PairEdge
{
	double		score;
	int32		a;				/* population positions, id(a) < id(b) */
	int32		b;
} PairEdge;

static int
edge_cmp(const void *x, const void *y, void *arg)
{
	const PairEdge *e = x,
			   *f = y;
	const Population *edge_pop = arg;
	int			c;

	if (e->score != f->score)
		return e->score > f->score ? -1 : 1;
	c = strcmp(POP_ID(edge_pop, e->a), POP_ID(edge_pop, f->a));
	if (c != 0)
		return c;
	return strcmp(POP_ID(edge_pop, e->b), POP_ID(edge_pop, f->b));
}

PG_FUNCTION_INFO_V1(ecs_pair_population);

/*
 * ecs_pair_population(min_score float8, max_pairs int)
 *		RETURNS TABLE (agent1_id, agent2_id, score)
 *
 * Greedy matching of the active agents: every agent's exact top-8 eligible
 * mates by final score form the candidate edges; edges are taken in
 * descending score (ties: agent1_id, then agent2_id, byte order) when both
 * agents are still unpaired and score >= min_score, until max_pairs.  Each
 * agent appears at most once; agent1_id < agent2_id.  Deterministic.  A
 * greedy matching is within a factor 2 of the best total score over the
 * candidate edges.  Not STRICT: NULL min_score = 0, NULL max_pairs = no
 * limit.  Errors: 22023 for a NaN min_score or a negative max_pairs.
 * Cost: O(active^2 * traits) for the lists (early abandoning cuts most of
 * it), memory O(active * (traits + list)).
 */
Datum
ecs_pair_population(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	double		min_score = PG_ARGISNULL(0) ? 0.0 : PG_GETARG_FLOAT8(0);
	int64		max_pairs = PG_ARGISNULL(1) ? PG_INT64_MAX : PG_GETARG_INT32(1);
	MemoryContext callcxt,
				oldcxt;
	EcsCatalog *cat;
	Population *pop;
	EcsPedigree *ped;
	Search	   *s;
	PairEdge   *edges;
	bool	   *paired;
	int64		nedges = 0,
				taken = 0,
				e;
	int			i,
				j;
	char	  **ids;
	double		est;

	if (isnan(min_score))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_score must be a number")));
	if (max_pairs < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_pairs %lld is out of range", (long long) max_pairs),
				 errhint("Use 0 or more, or NULL for no limit.")));

	InitMaterializedSRF(fcinfo, 0);
	callcxt = AllocSetContextCreate(CurrentMemoryContext, "ecs_pair_population",
									ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(callcxt);

	SPI_connect();
	cat = ecs_catalog_load(callcxt);
	est = agents_reltuples();
	pop = population_load(cat, est, callcxt);
	ped = ecs_pedigree_create(callcxt, ecs_kinship_depth);
	ids = MemoryContextAlloc(callcxt, sizeof(char *) * Max(pop->n, 1));
	for (i = 0; i < pop->n; i++)
		ids[i] = POP_ID(pop, i);
	pedigree_load_searched(ped, ids, pop->n, pop->n, est, PAIR_LIST);
	s = MemoryContextAllocZero(callcxt, sizeof(Search) * Max(pop->n, 1));
	for (i = 0; i < pop->n; i++)
	{
		s[i].id = ids[i];
		s[i].genome = pop->genome + (Size) i * pop->stride;
		s[i].sex = pop->sex[i];
		s[i].self = i;
		s[i].ped = ecs_pedigree_find(ped, ids[i]);
	}
	MemoryContextSwitchTo(callcxt);
	search_all(pop, cat, ped, s, pop->n, PAIR_LIST);
	SPI_finish();

	edges = palloc_extended(sizeof(PairEdge) * (Size) Max(pop->n, 1) * PAIR_LIST, MCXT_ALLOC_HUGE);
	for (i = 0; i < pop->n; i++)
	{
		for (j = 0; j < s[i].nbest; j++)
		{
			/* listed from the population: its row is known */
			int			other = s[i].best[j].row;

			if (s[i].best[j].final < min_score)
				continue;
			edges[nedges].score = s[i].best[j].final;
			if (strcmp(ids[i], ids[other]) < 0)
			{
				edges[nedges].a = i;
				edges[nedges].b = other;
			}
			else
			{
				edges[nedges].a = other;
				edges[nedges].b = i;
			}
			nedges++;
		}
	}
	qsort_arg(edges, nedges, sizeof(PairEdge), edge_cmp, pop);
	paired = palloc0(sizeof(bool) * Max(pop->n, 1));
	for (e = 0; e < nedges && taken < max_pairs; e++)
	{
		Datum		out[3];
		bool		outnulls[3] = {false};

		CHECK_FOR_INTERRUPTS();
		if (paired[edges[e].a] || paired[edges[e].b])
			continue;
		paired[edges[e].a] = paired[edges[e].b] = true;
		out[0] = CStringGetTextDatum(ids[edges[e].a]);
		out[1] = CStringGetTextDatum(ids[edges[e].b]);
		out[2] = Float8GetDatum(edges[e].score);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, outnulls);
		taken++;
	}
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(callcxt);
	return (Datum) 0;
}
