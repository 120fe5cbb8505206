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
"SELECT agent_id::pg_catalog.text, genome, sex, active, generation, "
"parent1_id::pg_catalog.text, parent2_id::pg_catalog.text FROM ecs.agents "
"WHERE agent_id OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[])";

typedef struct AgentSlot
{
	char		key[ECS_AGENT_ID_MAX + 1];
	int32		idx;
} AgentSlot;

/* what the row callback of ecs_agents_fetch needs */
typedef struct FetchState
{
	EcsIdTable *tab;			/* id -> k */
	int32	   *slot;			/* k -> index in out[] */
	EcsAgent   *out;
	char	  **p1;				/* when not NULL: parents, "" for none */
	char	  **p2;
	const EcsCatalog *cat;
	MemoryContext cxt;
} FetchState;

/* a parent id column as a string in cxt ("" for NULL) */
static char *
parent_column(Datum d, bool isnull, MemoryContext cxt)
{
	text	   *t;

	if (isnull)
		return "";
	t = DatumGetTextPP(d);
	return MemoryContextStrdup(cxt, text_to_cstring(t));
}

static void
fetch_row(Datum *values, bool *nulls, void *arg)
{
	FetchState *fs = (FetchState *) arg;
	text	   *t = DatumGetTextPP(values[0]);
	int			k;
	EcsAgent   *ag;

	CHECK_FOR_INTERRUPTS();
	k = ecs_idtab_lookup(fs->tab, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), false, NULL);
	if (k < 0)
		return;
	ag = &fs->out[fs->slot[k]];
	ag->found = true;
	if (nulls[1])
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("agent \"%s\" has no genome", ag->id)));
	ag->genome = MemoryContextAlloc(fs->cxt, sizeof(float4) * fs->cat->ntraits);
	ecs_genome_values(values[1], ag->id, fs->cat->ntraits, ag->genome);
	ag->sex = nulls[2] ? '\0' : VARDATA_ANY(DatumGetTextPP(values[2]))[0];
	ag->active = DatumGetBool(values[3]);
	ag->generation = DatumGetInt32(values[4]);
	if (fs->p1)
	{
		fs->p1[fs->slot[k]] = parent_column(values[5], nulls[5], fs->cxt);
		fs->p2[fs->slot[k]] = parent_column(values[6], nulls[6], fs->cxt);
	}
}

/*
 * agents_fetch
 *		Read agents ids[0..n-1] (distinct) into out[] (same order); found is
 *		false for an id the caller cannot see.  Genomes are checked against
 *		the catalog and copied into cxt; when p1, p2 are not NULL they
 *		receive each found agent's parents ("" for none), in cxt.  Connected
 *		to SPI.  One query; the rows go straight from the executor into out[].
 */
static void
agents_fetch(char **ids, int n, const EcsCatalog *cat, MemoryContext cxt,
			 EcsAgent *out, char **p1, char **p2)
{
	Oid			types[1] = {TEXTARRAYOID};
	SPIPlanPtr	plan = ecs_plan(ECS_PLAN_AGENT_ROW, agent_rows_sql, 1, types);
	MemoryContext tabcxt;
	FetchState	fs;
	Datum		arg;
	int			i;

	if (n == 0)
		return;
	tabcxt = AllocSetContextCreate(CurrentMemoryContext, "ecs agents fetch",
								   ALLOCSET_DEFAULT_SIZES);
	fs.tab = ecs_idtab_create(tabcxt, n);
	fs.slot = MemoryContextAlloc(tabcxt, sizeof(int32) * n);
	fs.out = out;
	fs.p1 = p1;
	fs.p2 = p2;
	fs.cat = cat;
	fs.cxt = cxt;
	for (i = 0; i < n; i++)
	{
		fs.slot[ecs_idtab_lookup(fs.tab, ids[i], strlen(ids[i]), true, NULL)] = i;
		memset(&out[i], 0, sizeof(EcsAgent));
		strlcpy(out[i].id, ids[i], sizeof(out[i].id));
		if (p1)
			p1[i] = p2[i] = "";
	}
	arg = ecs_text_array_from_ids(ids, n);
	ecs_spi_each_row(plan, 1, &arg, types, fetch_row, &fs);
	MemoryContextDelete(tabcxt);
}

/*
 * ecs_agents_fetch
 *		agents_fetch() without the parents.
 */
void
ecs_agents_fetch(char **ids, int n, const EcsCatalog *cat, MemoryContext cxt,
				 EcsAgent *out)
{
	agents_fetch(ids, n, cat, cxt, out, NULL, NULL);
}

/*
 * ecs_agents_fetch_links
 *		agents_fetch() with the parents, for ecs_pedigree_load_known().
 */
void
ecs_agents_fetch_links(char **ids, int n, const EcsCatalog *cat, MemoryContext cxt,
					   EcsAgent *out, char **p1, char **p2)
{
	agents_fetch(ids, n, cat, cxt, out, p1, p2);
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
	char	   *p1[2],
			   *p2[2];
	int			nd;
	EcsAgent	ag[2];
	EcsCatalog *cat;
	EcsPedigree *ped;
	double	   *target;
	int			pa,
				pb;

	ids[0] = ecs_agent_id_check(PG_GETARG_TEXT_PP(0), "a");
	ids[1] = ecs_agent_id_check(PG_GETARG_TEXT_PP(1), "b");
	cat = ecs_catalog_load(CurrentMemoryContext);
	nd = strcmp(ids[0], ids[1]) == 0 ? 1 : 2;
	agents_fetch(ids, nd, cat, CurrentMemoryContext, ag, p1, p2);
	if (!ag[0].found)
		ecs_report_unknown_agent(ids[0]);
	if (nd == 1)
		ag[1] = ag[0];
	else if (!ag[1].found)
		ecs_report_unknown_agent(ids[1]);
	/* the pair's rows are read: the pedigree walk starts at their parents */
	ped = ecs_pedigree_create(CurrentMemoryContext, ecs_kinship_depth);
	ecs_pedigree_load_known(ped, ids, p1, p2, nd);
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
 * batch_ids
 *		Validate the elements of a text[] argument (22023 as
 *		ecs_ids_argument) and intern them into tab: map[i] = index of
 *		element i.  *elems_out receives the element datums.
 */
static int
batch_ids(ArrayType *arr, const char *argname, EcsIdTable *tab, int32 **map,
		  Datum **elems_out)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n,
				i;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument %s must be a one-dimensional array", argname)));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	*map = palloc(sizeof(int32) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		text	   *t;
		int			len;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("argument %s contains a NULL agent id", argname),
					 errdetail("Element %d is NULL.", i + 1)));
		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		t = DatumGetTextPP(elems[i]);
		len = VARSIZE_ANY_EXHDR(t);
		if (!ecs_agent_id_is_valid(VARDATA_ANY(t), len))
			(void) ecs_agent_id_check_cstring(VARDATA_ANY(t), len, argname);	/* raises */
		(*map)[i] = ecs_idtab_lookup(tab, VARDATA_ANY(t), len, true, NULL);
	}
	pfree(nulls);
	*elems_out = elems;
	return n;
}

/*
 * ecs_compatibility_batch(a text[], b text[])
 *		RETURNS TABLE (agent1_id, agent2_id, score): final(a[i], b[i]) for
 *		every i, in input order.  STRICT; 22023 for arrays of different
 *		length, NULL elements or bad ids; P0002 for an unknown agent.
 *
 * Cost: one query for the distinct agents' rows and one walk (a query per
 * generation of kinship_depth) for their pedigrees; then per pair the
 * trait score and the filter in memory, and kinship only for pairs whose
 * S-sets meet (ecs_relatedness_value, kinship.c: S(a[i]) stays marked
 * across a run of equal a[i] and is probed with S(b[i])): unrelated pairs
 * cost a few dozen array reads.
 */
Datum
ecs_compatibility_batch(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ArrayType  *arr_a = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *arr_b = PG_GETARG_ARRAYTYPE_P(1);
	MemoryContext callcxt;
	MemoryContext oldcxt;
	EcsIdTable *tab;
	char	  **distinct;
	char	  **p1,
			  **p2;
	int			na,
				nb,
				nd,
				i;
	int32	   *map_a,
			   *map_b;
	EcsCatalog *cat;
	EcsAgent   *ag;
	EcsPedigree *ped;
	int		   *pidx;
	double	   *targets;
	Datum	   *elems_a,
			   *elems_b;
	int			nt;

	InitMaterializedSRF(fcinfo, 0);
	callcxt = AllocSetContextCreate(CurrentMemoryContext, "ecs_compatibility_batch",
									ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(callcxt);

	tab = ecs_idtab_create(callcxt, 1024);
	na = batch_ids(arr_a, "a", tab, &map_a, &elems_a);
	nb = batch_ids(arr_b, "b", tab, &map_b, &elems_b);
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
	nd = ecs_idtab_count(tab);
	distinct = palloc(sizeof(char *) * nd);
	for (i = 0; i < nd; i++)
		distinct[i] = (char *) ecs_idtab_cstring(tab, i);

	SPI_connect();
	cat = ecs_catalog_load(callcxt);
	nt = cat->ntraits;
	ag = MemoryContextAlloc(callcxt, sizeof(EcsAgent) * nd);
	p1 = palloc(sizeof(char *) * nd);
	p2 = palloc(sizeof(char *) * nd);
	agents_fetch(distinct, nd, cat, callcxt, ag, p1, p2);
	/* the first unknown id in argument order (a, then b) */
	for (i = 0; i < na; i++)
		if (!ag[map_a[i]].found)
			ecs_report_unknown_agent(distinct[map_a[i]]);
	for (i = 0; i < na; i++)
		if (!ag[map_b[i]].found)
			ecs_report_unknown_agent(distinct[map_b[i]]);
	/* every agent's row is read: the pedigree walk starts at their parents */
	ped = ecs_pedigree_create(callcxt, ecs_kinship_depth);
	ecs_pedigree_load_known(ped, distinct, p1, p2, nd);
	SPI_finish();

	pidx = palloc(sizeof(int) * nd);
	for (i = 0; i < nd; i++)
	{
		pidx[i] = ecs_pedigree_find(ped, distinct[i]);
		if (pidx[i] < 0)		/* deleted in between: cannot happen in one snapshot */
			ecs_report_unknown_agent(distinct[i]);
	}
	/* each agent's target point once (only first-array agents need one) */
	targets = palloc(sizeof(double) * (Size) nd * nt);
	{
		bool	   *done = palloc0(sizeof(bool) * nd);

		for (i = 0; i < na; i++)
			if (!done[map_a[i]])
			{
				ecs_genome_target(cat, ag[map_a[i]].genome, targets + (Size) map_a[i] * nt);
				done[map_a[i]] = true;
			}
		pfree(done);
	}
	for (i = 0; i < na; i++)
	{
		int			x = map_a[i],
					y = map_b[i];
		double		trait,
					rel;
		Datum		values[3];
		bool		nulls[3] = {false};

		CHECK_FOR_INTERRUPTS();
		trait = ecs_score_from_l1(ecs_weighted_l1(targets + (Size) x * nt, cat->weight,
												  ag[y].genome, nt),
								  cat->weight_sum);
		rel = ecs_relatedness_value(ped, pidx[x], pidx[y]);
		/* the input elements are valid texts already: no copies */
		values[0] = elems_a[i];
		values[1] = elems_b[i];
		values[2] = Float8GetDatum(ecs_final_score(trait, rel));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(callcxt);
	return (Datum) 0;
}
