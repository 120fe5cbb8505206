/*-------------------------------------------------------------------------
 *
 * compatibility.c
 *		ecs_compatibility, ecs_compatibility_explain, ecs_compatibility_batch:
 *		the final score of SPEC section 3 for one pair or many, and the
 *		eligibility rule shared with mate search.
 *
 *		final(a, b) = trait_score(a, b) * max(0, 1 - kinship_penalty * r(a, b))
 *		b is an eligible mate of a: b <> a, b active, sexes differ when both
 *		are set, r(a, b) < max_relatedness.
 *
 * The batch reads every distinct agent once (one SPI query), loads their
 * pedigree once (one SPI query per generation of depth), and scores pairs in
 * memory; kinship is computed only for pairs whose ancestor sets meet.
 * Memory: agents and pedigree of the call, bounded by the input arrays and
 * max_lineage_nodes per agent.
 *
 * IDENTIFICATION
 *		src/compatibility.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "ecs_agents.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

static const char *const agent_rows_sql =
"SELECT agent_id::pg_catalog.text, genome, sex, active, generation FROM ecs.agents "
"WHERE agent_id OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[])";

typedef struct AgentSlot
{
	char		key[ECS_AGENT_ID_MAX + 1];
	int32		idx;
} AgentSlot;

/*
 * ecs_agents_fetch
 *		Read agents ids[0..n-1] (distinct) into out[] (same order); found is
 *		false for an id the caller cannot see.  Genomes are checked against
 *		the catalog and copied into cxt.  Connected to SPI.
 */
void
ecs_agents_fetch(char **ids, int n, const EcsCatalog *cat, MemoryContext cxt,
				 EcsAgent *out)
{
	Oid			types[1] = {TEXTARRAYOID};
	SPIPlanPtr	plan = ecs_plan(ECS_PLAN_AGENT_ROW, agent_rows_sql, 1, types);
	HASHCTL		ctl;
	HTAB	   *slots;
	Datum		arg;
	uint64		r;
	int			i;
	int			rc;

	if (n == 0)
		return;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = ECS_AGENT_ID_MAX + 1;
	ctl.entrysize = sizeof(AgentSlot);
	ctl.hcxt = CurrentMemoryContext;
	slots = hash_create("ecs agents fetch", n, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	for (i = 0; i < n; i++)
	{
		AgentSlot  *s = hash_search(slots, ids[i], HASH_ENTER, NULL);

		s->idx = i;
		memset(&out[i], 0, sizeof(EcsAgent));
		strlcpy(out[i].id, ids[i], sizeof(out[i].id));
	}
	arg = ecs_text_array_from_ids(ids, n);
	rc = SPI_execute_plan(plan, &arg, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	for (r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char		id[ECS_AGENT_ID_MAX + 1];
		bool		isnull;
		Datum		d;
		AgentSlot  *s;
		EcsAgent   *ag;

		CHECK_FOR_INTERRUPTS();
		text_to_cstring_buffer(DatumGetTextPP(SPI_getbinval(tup, desc, 1, &isnull)), id, sizeof(id));
		s = hash_search(slots, id, HASH_FIND, NULL);
		if (s == NULL)
			continue;
		ag = &out[s->idx];
		ag->found = true;
		d = SPI_getbinval(tup, desc, 2, &isnull);
		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("agent \"%s\" has no genome", id)));
		ag->genome = MemoryContextAlloc(cxt, sizeof(float4) * cat->ntraits);
		ecs_genome_values(d, id, cat->ntraits, ag->genome);
		d = SPI_getbinval(tup, desc, 3, &isnull);
		ag->sex = isnull ? '\0' : TextDatumGetCString(d)[0];
		ag->active = DatumGetBool(SPI_getbinval(tup, desc, 4, &isnull));
		ag->generation = DatumGetInt32(SPI_getbinval(tup, desc, 5, &isnull));
	}
	SPI_freetuptable(SPI_tuptable);
}

/*
 * ecs_ineligible_reason
 *		NULL when b is an eligible mate of a, else why not (static text).
 */
const char *
ecs_ineligible_reason(const EcsAgent *a, const EcsAgent *b, double relatedness)
{
	if (strcmp(a->id, b->id) == 0)
		return "same agent";
	if (!b->active)
		return "mate is not active";
	if (a->sex != '\0' && b->sex != '\0' && a->sex == b->sex)
		return "same sex";
	if (!(relatedness < ecs_max_relatedness))
		return "too closely related";
	return NULL;
}

/* everything one pair needs, computed once */
typedef struct PairScore
{
	double		trait_score;
	double		relatedness;
	double		final_score;
	const char *reason;
} PairScore;

static void
score_pair(const EcsCatalog *cat, EcsPedigree *ped, EcsAgent *a, EcsAgent *b,
		   int pa, int pb, const double *target, PairScore *out)
{
	out->trait_score = ecs_score_from_l1(ecs_weighted_l1(target, cat->weight, b->genome,
														 cat->ntraits),
										 cat->weight_sum);
	out->relatedness = ecs_relatedness_value(ped, pa, pb);
	out->final_score = ecs_final_score(out->trait_score, out->relatedness);
	out->reason = ecs_ineligible_reason(a, b, out->relatedness);
}

/* load one pair; P0002 for an unknown agent.  Connected to SPI. */
static void
pair_of(FunctionCallInfo fcinfo, PairScore *ps)
{
	char	   *ids[2];
	EcsAgent	ag[2];
	EcsCatalog *cat;
	EcsPedigree *ped;
	double	   *target;
	int			pa,
				pb;

	ids[0] = ecs_agent_id_check(PG_GETARG_TEXT_PP(0), "a");
	ids[1] = ecs_agent_id_check(PG_GETARG_TEXT_PP(1), "b");
	cat = ecs_catalog_load(CurrentMemoryContext);
	ecs_agents_fetch(ids, strcmp(ids[0], ids[1]) == 0 ? 1 : 2, cat, CurrentMemoryContext, ag);
	if (!ag[0].found)
		ecs_report_unknown_agent(ids[0]);
	if (strcmp(ids[0], ids[1]) == 0)
		ag[1] = ag[0];
	else if (!ag[1].found)
		ecs_report_unknown_agent(ids[1]);
	ped = ecs_pedigree_create(CurrentMemoryContext, ecs_kinship_depth);
	ecs_pedigree_load(ped, ids, 2);
	pa = ecs_pedigree_find(ped, ids[0]);
	pb = ecs_pedigree_find(ped, ids[1]);
	if (pa < 0 || pb < 0)		/* deleted in between: cannot happen in one snapshot */
		ecs_report_unknown_agent(pa < 0 ? ids[0] : ids[1]);
	target = palloc(sizeof(double) * cat->ntraits);
	ecs_genome_target(cat, ag[0].genome, target);
	score_pair(cat, ped, &ag[0], &ag[1], pa, pb, target, ps);
}

PG_FUNCTION_INFO_V1(ecs_compatibility);
PG_FUNCTION_INFO_V1(ecs_compatibility_explain);
PG_FUNCTION_INFO_V1(ecs_compatibility_batch);

/*
 * ecs_compatibility(a text, b text) float8 -- final(a, b), eligible or not.
 * STRICT STABLE.  22023 bad id, P0002 unknown agent, 22000 cycle.
 */
Datum
ecs_compatibility(PG_FUNCTION_ARGS)
{
	PairScore	ps;

	SPI_connect();
	pair_of(fcinfo, &ps);
	SPI_finish();
	PG_RETURN_FLOAT8(ps.final_score);
}

/*
 * ecs_compatibility_explain(a text, b text)
 *		RETURNS record (trait_score, relatedness, final_score, eligible, reason)
 * reason is 'eligible' or why b is not an eligible mate of a.
 */
Datum
ecs_compatibility_explain(PG_FUNCTION_ARGS)
{
	PairScore	ps;
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5] = {false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	SPI_connect();
	pair_of(fcinfo, &ps);
	SPI_finish();
	values[0] = Float8GetDatum(ps.trait_score);
	values[1] = Float8GetDatum(ps.relatedness);
	values[2] = Float8GetDatum(ps.final_score);
	values[3] = BoolGetDatum(ps.reason == NULL);
	values[4] = CStringGetTextDatum(ps.reason ? ps.reason : "eligible");
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/*
 * ecs_ids_argument
 *		Elements of a text[] argument as validated ids (current context);
 *		22023 for a NULL element, a bad id or a multi-dimensional array.
 *		*elems_out, when not NULL, receives the element datums.
 */
char	  **
ecs_ids_argument(ArrayType *arr, const char *argname, int *n, Datum **elems_out)
{
	Datum	   *elems;
	bool	   *nulls;
	char	  **ids;
	int			i;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument %s must be a one-dimensional array", argname)));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, n);
	ids = palloc(sizeof(char *) * Max(*n, 1));
	for (i = 0; i < *n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("argument %s contains a NULL agent id", argname),
					 errdetail("Element %d is NULL.", i + 1)));
		ids[i] = ecs_agent_id_check(DatumGetTextPP(elems[i]), argname);
	}
	if (elems_out)
		*elems_out = elems;
	return ids;
}

/*
 * ecs_distinct_agents
 *		Distinct ids of ids[0..n-1]; map[i] = index of ids[i] in the result.
 */
char	  **
ecs_distinct_agents(char **ids, int n, int *map, int *ndistinct)
{
	HASHCTL		ctl;
	HTAB	   *h;
	char	  **out = palloc(sizeof(char *) * Max(n, 1));
	int			i,
				m = 0;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = ECS_AGENT_ID_MAX + 1;
	ctl.entrysize = sizeof(AgentSlot);
	ctl.hcxt = CurrentMemoryContext;
	h = hash_create("ecs distinct agents", Max(n, 16), &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	for (i = 0; i < n; i++)
	{
		bool		found;
		AgentSlot  *s = hash_search(h, ids[i], HASH_ENTER, &found);

		if (!found)
		{
			s->idx = m;
			out[m++] = ids[i];
		}
		map[i] = s->idx;
	}
	*ndistinct = m;
	return out;
}

/*
 * ecs_compatibility_batch(a text[], b text[])
 *		RETURNS TABLE (agent1_id, agent2_id, score): final(a[i], b[i]) for
 *		every i, in input order.  STRICT; 22023 for arrays of different
 *		length, NULL elements or bad ids; P0002 for an unknown agent.
 */
Datum
ecs_compatibility_batch(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ArrayType  *arr_a = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *arr_b = PG_GETARG_ARRAYTYPE_P(1);
	MemoryContext callcxt;
	MemoryContext oldcxt;
	char	  **ids_a,
			  **ids_b,
			  **all,
			  **distinct;
	int			na,
				nb,
				nd,
				i;
	int		   *map;
	EcsCatalog *cat;
	EcsAgent   *ag;
	EcsPedigree *ped;
	int		   *pidx;
	double	   *targets;
	Datum	   *elems_a,
			   *elems_b;

	InitMaterializedSRF(fcinfo, 0);
	callcxt = AllocSetContextCreate(CurrentMemoryContext, "ecs_compatibility_batch",
									ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(callcxt);

	ids_a = ecs_ids_argument(arr_a, "a", &na, &elems_a);
	ids_b = ecs_ids_argument(arr_b, "b", &nb, &elems_b);
	if (na != nb)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("arrays a and b differ in length"),
				 errdetail("a has %d elements, b has %d.", na, nb),
				 errhint("Pass the pairs as two arrays of equal length: a[i] is scored against b[i].")));
	if (na == 0)
	{
		MemoryContextSwitchTo(oldcxt);
		MemoryContextDelete(callcxt);
		return (Datum) 0;
	}
	all = palloc(sizeof(char *) * (Size) na * 2);
	memcpy(all, ids_a, sizeof(char *) * na);
	memcpy(all + na, ids_b, sizeof(char *) * na);
	map = palloc(sizeof(int) * (Size) na * 2);
	distinct = ecs_distinct_agents(all, 2 * na, map, &nd);

	SPI_connect();
	cat = ecs_catalog_load(callcxt);
	ag = MemoryContextAlloc(callcxt, sizeof(EcsAgent) * nd);
	ecs_agents_fetch(distinct, nd, cat, callcxt, ag);
	for (i = 0; i < 2 * na; i++)
		if (!ag[map[i]].found)
			ecs_report_unknown_agent(all[i]);
	ped = ecs_pedigree_create(callcxt, ecs_kinship_depth);
	ecs_pedigree_load(ped, distinct, nd);
	SPI_finish();

	pidx = palloc(sizeof(int) * nd);
	for (i = 0; i < nd; i++)
		pidx[i] = ecs_pedigree_find(ped, distinct[i]);
	/* each agent's target point once (only first-array agents need one) */
	targets = palloc(sizeof(double) * (Size) nd * cat->ntraits);
	{
		bool	   *done = palloc0(sizeof(bool) * nd);

		for (i = 0; i < na; i++)
			if (!done[map[i]])
			{
				ecs_genome_target(cat, ag[map[i]].genome, targets + (Size) map[i] * cat->ntraits);
				done[map[i]] = true;
			}
		pfree(done);
	}
	for (i = 0; i < na; i++)
	{
		int			x = map[i],
					y = map[na + i];
		PairScore	ps;
		Datum		values[3];
		bool		nulls[3] = {false};

		CHECK_FOR_INTERRUPTS();
		if (pidx[x] < 0 || pidx[y] < 0)
			ecs_report_unknown_agent(pidx[x] < 0 ? distinct[x] : distinct[y]);
		score_pair(cat, ped, &ag[x], &ag[y], pidx[x], pidx[y],
				   targets + (Size) x * cat->ntraits, &ps);
		/* the input elements are valid texts already: no copies */
		values[0] = elems_a[i];
		values[1] = elems_b[i];
		values[2] = Float8GetDatum(ps.final_score);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(callcxt);
	return (Datum) 0;
}
