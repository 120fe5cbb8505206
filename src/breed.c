/*-------------------------------------------------------------------------
 *
 * breed.c
 *		ecs_breed(parent1, parent2, child_id, seed): a child of two eligible
 *		parents.
 *
 * The child's genome takes each trait from a random parent and adds a
 * gaussian mutation with the trait's mutation_sd, clamped to [0, 1]; its
 * generation is one more than the older parent's, its spirit that of a
 * random parent (the other one's when that parent has none), its name
 * generated for that spirit (naming.c), its sex random.  Every random
 * choice is a fixed draw of the seed's stream (random.c), so the same
 * parents and seed give the same genome, sex, spirit and name.
 *
 * Invariants
 *	- The parents are read with SELECT ... FOR SHARE, in id order, before
 *	  eligibility is decided: a concurrent DELETE or UPDATE (deactivation)
 *	  of a parent waits for this transaction, and one that committed first
 *	  is seen (the parent is then unknown or inactive and breeding fails).
 *	  Sessions breeding the same parents only share those locks.
 *	- ecs.agents is locked ROW EXCLUSIVE first, the mode the INSERT takes
 *	  anyway, so ecs_add_trait (SHARE ROW EXCLUSIVE, then an UPDATE of all
 *	  genomes) cannot change the catalog between our read and our insert,
 *	  nor deadlock with us on the parents' row locks.
 *	- Eligibility is the rule of ecs_compatibility_explain(): both parents
 *	  active, ecs_ineligible_reason() on their relatedness over the
 *	  kinship_depth pedigree (compatibility.c, kinship.c), computed here
 *	  directly -- the trait score, a catalog read and a second read of the
 *	  parents are not needed for it.  The pedigree is read under a snapshot
 *	  taken after the parents' row locks.  Nothing is written unless the
 *	  parents are eligible, and the child is one INSERT, so a failed call
 *	  leaves nothing behind.
 *
 * IDENTIFICATION
 *		src/breed.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "catalog/pg_type.h"
#include "ecs_agents.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "naming.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"

/*
 *	- All reads and the write go through SPI as the caller: privileges and
 *	  row-level security hold (FOR SHARE needs UPDATE privilege on
 *	  ecs.agents, the INSERT needs INSERT).
 *	- Memory: the SPI procedure context, released by SPI_finish; the name
 *	  parts are cached by naming.c.
 */

/* draws of the seed's stream, fixed forever (children are reproducible) */
#define DRAW_GENE_STREAM		1	/* sub-stream: which parent, per trait */
#define DRAW_MUTATION_STREAM	2	/* sub-stream: N(0,1) per trait */
#define DRAW_SEX				3
#define DRAW_SPIRIT_PARENT		4
#define DRAW_NAME_SEED			5

static const char *const lock_agents_sql =
"LOCK TABLE ecs.agents IN ROW EXCLUSIVE MODE";

/* the parents, locked, and the catalog's mutation_sd in position order */
static const char *const parents_sql =
"SELECT a.agent_id::pg_catalog.text, a.generation, a.spirit_id, a.active, a.genome, "
"       (SELECT pg_catalog.array_agg(c.mutation_sd ORDER BY c.position) "
"          FROM ecs.trait_catalog c), a.sex, "
"       a.parent1_id::pg_catalog.text, a.parent2_id::pg_catalog.text "
"  FROM ecs.agents a "
" WHERE a.agent_id OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[]) "
" ORDER BY a.agent_id::pg_catalog.text COLLATE pg_catalog.\"C\" "
"   FOR SHARE OF a";

static const char *const insert_sql =
"INSERT INTO ecs.agents (agent_id, name, sex, spirit_id, generation, "
"                        parent1_id, parent2_id, genome) "
"VALUES (coalesce($1, 'agent' OPERATOR(pg_catalog.||) "
"                     pg_catalog.nextval('ecs.agent_number_seq'::pg_catalog.regclass)), "
"        $2, $3, $4, $5, $6, $7, $8) "
"RETURNING agent_id::pg_catalog.text";

/* one parent as read under its row lock */
typedef struct BreedParent
{
	char	   *agent_id;
	int32		generation;
	char	   *spirit_id;		/* NULL when none */
	bool		active;
	char		sex;			/* 'f', 'm' or '\0' as in EcsAgent */
	ArrayType  *genome;
	char	   *parent1_id;		/* "" when none */
	char	   *parent2_id;
} BreedParent;

/* the agent id of argument argno, validated; 22023 when NULL or malformed */
static char *
id_argument(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("agent id must not be null"),
				 errdetail("Argument %s is NULL.", argname)));
	return ecs_agent_id_check(PG_GETARG_TEXT_PP(argno), argname);
}

/*
 * Lock and read both parents, and the trait catalog's mutation_sd per
 * position into *sd_out (*ntraits_out values), in one snapshot.  Connected
 * to SPI; results in the SPI procedure context.  P0002 for a parent the
 * caller cannot see.
 */
static void
read_parents(const char *p1, const char *p2, BreedParent *out1, BreedParent *out2,
			 double **sd_out, int *ntraits_out)
{
	Oid			argtypes[1] = {TEXTARRAYOID};
	char	   *ids[2];
	Datum		args[1];
	SPIPlanPtr	plan;
	int			rc;
	uint64		i;
	bool		found1 = false;
	bool		found2 = false;

	*sd_out = NULL;
	*ntraits_out = 0;
	ids[0] = (char *) p1;
	ids[1] = (char *) p2;
	args[0] = ecs_text_array_from_ids(ids, 2);
	plan = ecs_plan(ECS_PLAN_BREED_PARENTS, parents_sql, 1, argtypes);
	rc = SPI_execute_plan(plan, args, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read the parents: %s", SPI_result_code_string(rc));

	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		BreedParent p;
		bool		isnull;
		Datum		d;

		p.agent_id = TextDatumGetCString(SPI_getbinval(tup, desc, 1, &isnull));
		p.generation = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
		d = SPI_getbinval(tup, desc, 3, &isnull);
		p.spirit_id = isnull ? NULL : TextDatumGetCString(d);
		p.active = DatumGetBool(SPI_getbinval(tup, desc, 4, &isnull));
		d = SPI_getbinval(tup, desc, 5, &isnull);
		if (isnull)
			elog(ERROR, "genome of agent \"%s\" is NULL", p.agent_id);
		p.genome = DatumGetArrayTypePCopy(d);
		d = SPI_getbinval(tup, desc, 7, &isnull);
		p.sex = isnull ? '\0' : TextDatumGetCString(d)[0];
		d = SPI_getbinval(tup, desc, 8, &isnull);
		p.parent1_id = isnull ? "" : TextDatumGetCString(d);
		d = SPI_getbinval(tup, desc, 9, &isnull);
		p.parent2_id = isnull ? "" : TextDatumGetCString(d);

		if (i == 0)
		{
			d = SPI_getbinval(tup, desc, 6, &isnull);
			if (isnull)
			{
				*sd_out = palloc(sizeof(double));
				*ntraits_out = 0;
			}
			else
			{
				ArrayType  *sds = DatumGetArrayTypeP(d);
				int			n = ArrayGetNItems(ARR_NDIM(sds), ARR_DIMS(sds));

				if (ARR_ELEMTYPE(sds) != FLOAT8OID || ARR_HASNULL(sds) ||
					n > ECS_MAX_TRAITS)
					elog(ERROR, "unexpected trait catalog");
				*sd_out = palloc(sizeof(double) * Max(n, 1));
				memcpy(*sd_out, ARR_DATA_PTR(sds), sizeof(double) * n);
				*ntraits_out = n;
			}
		}

		if (strcmp(p.agent_id, p1) == 0)
		{
			*out1 = p;
			found1 = true;
		}
		if (strcmp(p.agent_id, p2) == 0)
		{
			*out2 = p;
			found2 = true;
		}
	}
	SPI_freetuptable(SPI_tuptable);
	if (!found1)
		ecs_report_unknown_agent(p1);
	if (!found2)
		ecs_report_unknown_agent(p2);
}

/* raise 55000: the parents may not breed, for the reason in detail */
static void
report_ineligible(const char *p1, const char *p2, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("agents \"%s\" and \"%s\" cannot breed", p1, p2),
			 errdetail("%s", detail),
			 errhint("Check a pair with SELECT * FROM ecs_compatibility_explain('%s', '%s').",
					 p1, p2)));
}

/*
 * Decide eligibility by the rule of ecs_compatibility_explain(): load both
 * parents' pedigree to ecs_agents.kinship_depth under a snapshot taken now
 * (after the row locks, as a new SPI query would), and apply
 * ecs_ineligible_reason() to their relatedness; 55000 with that reason
 * when they are not eligible.  Connected to SPI; the pedigree lives in the
 * current (SPI procedure) context.
 */
static void
check_eligible(const BreedParent *a, const BreedParent *b)
{
	EcsAgent	ag[2];
	const BreedParent *par[2];
	char	   *ids[2];
	char	   *p1[2];
	char	   *p2[2];
	EcsPedigree *ped;
	int			pa,
				pb;
	int			i;
	const char *reason;

	par[0] = a;
	par[1] = b;
	for (i = 0; i < 2; i++)
	{
		memset(&ag[i], 0, sizeof(EcsAgent));
		strlcpy(ag[i].id, par[i]->agent_id, sizeof(ag[i].id));
		ag[i].found = true;
		ag[i].active = par[i]->active;
		ag[i].sex = par[i]->sex;
		ag[i].generation = par[i]->generation;
		ids[i] = par[i]->agent_id;
		p1[i] = par[i]->parent1_id;
		p2[i] = par[i]->parent2_id;
	}
	ped = ecs_pedigree_create(CurrentMemoryContext, ecs_kinship_depth);
	/* their parent links were read under the row locks: the walk starts there */
	PushActiveSnapshot(GetTransactionSnapshot());
	ecs_pedigree_load_known(ped, ids, p1, p2, 2);
	PopActiveSnapshot();
	pa = ecs_pedigree_find(ped, ids[0]);
	pb = ecs_pedigree_find(ped, ids[1]);
	if (pa < 0 || pb < 0)		/* locked FOR SHARE: cannot happen */
		ecs_report_unknown_agent(pa < 0 ? ids[0] : ids[1]);
	reason = ecs_ineligible_reason(&ag[0], &ag[1], ecs_relatedness_value(ped, pa, pb));
	if (reason != NULL)
		report_ineligible(a->agent_id, b->agent_id,
						  psprintf("They are not eligible mates: %s.", reason));
}

/*
 * The child's genome: per trait a random parent's value plus N(0, sd),
 * clamped to [0, 1].  Both genomes have passed ecs_genome_check(ntraits).
 */
static ArrayType *
child_genome(uint64 seed, const BreedParent *a, const BreedParent *b,
			 const double *sd, int ntraits)
{
	const float4 *ga = (const float4 *) ARR_DATA_PTR(a->genome);
	const float4 *gb = (const float4 *) ARR_DATA_PTR(b->genome);
	uint64		gene_stream = ecs_random_u64(seed, DRAW_GENE_STREAM);
	uint64		mutation_stream = ecs_random_u64(seed, DRAW_MUTATION_STREAM);
	Datum	   *vals = palloc(sizeof(Datum) * Max(ntraits, 1));
	int			t;

	for (t = 0; t < ntraits; t++)
	{
		double		v = ecs_random_unit(gene_stream, t) < 0.5 ? ga[t] : gb[t];

		if (sd[t] > 0)
			v += sd[t] * ecs_random_normal(mutation_stream, t);
		if (!(v >= 0.0))		/* also NaN, which cannot happen */
			v = 0.0;
		else if (v > 1.0)
			v = 1.0;
		vals[t] = Float4GetDatum((float4) v);
	}
	return construct_array(vals, ntraits, FLOAT4OID, sizeof(float4),
						   true, TYPALIGN_INT);
}

PG_FUNCTION_INFO_V1(ecs_breed);

/*
 * ecs_breed(parent1 text, parent2 text, child_id text DEFAULT NULL,
 *			 seed bigint DEFAULT NULL) returns text
 *
 * Inserts the child of two eligible parents and returns its id (the given
 * child_id, else 'agent' || nextval('ecs.agent_number_seq')).  A NULL seed
 * draws a random one.  Errors: 22023 for a NULL or malformed parent id or a
 * malformed child_id; P0002 for a parent the caller cannot see; 55000 when
 * the parents are the same agent, one is inactive, or they are not
 * eligible mates by the rule of ecs_compatibility_explain() (its reason in
 * the detail); 22023 when child_id is a parent's id, 23505 when it is taken by
 * another agent.
 */
Datum
ecs_breed(PG_FUNCTION_ARGS)
{
	char	   *p1 = id_argument(fcinfo, 0, "parent1");
	char	   *p2 = id_argument(fcinfo, 1, "parent2");
	char	   *child = PG_ARGISNULL(2) ? NULL :
		ecs_agent_id_check(PG_GETARG_TEXT_PP(2), "child_id");
	uint64		seed = PG_ARGISNULL(3) ? ecs_name_random_seed() :
		(uint64) PG_GETARG_INT64(3);
	BreedParent a;
	BreedParent b;
	const BreedParent *spirit_parent;
	const BreedParent *other_parent;
	double	   *sd;
	int			ntraits;
	int32		generation;
	char	   *spirit;
	char	   *name;
	Oid			insert_types[8] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	INT4OID, TEXTOID, TEXTOID, FLOAT4ARRAYOID};
	Datum		values[8];
	char		nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	int			rc;
	bool		isnull;
	text	   *result;

	if (child != NULL && (strcmp(child, p1) == 0 || strcmp(child, p2) == 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("child id \"%s\" is the id of a parent", child),
				 errhint("Give the child a new id, or NULL to generate one.")));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	rc = SPI_execute_plan(ecs_plan(ECS_PLAN_BREED_LOCK, lock_agents_sql, 0, NULL),
						  NULL, NULL, false, 0);
	if (rc != SPI_OK_UTILITY)
		elog(ERROR, "could not lock ecs.agents: %s", SPI_result_code_string(rc));

	read_parents(p1, p2, &a, &b, &sd, &ntraits);
	if (strcmp(p1, p2) == 0)
		report_ineligible(p1, p2, "An agent cannot breed with itself.");
	if (!a.active || !b.active)
	{
		char	   *detail = psprintf("Agent \"%s\" is not active.",
									  a.active ? p2 : p1);

		report_ineligible(p1, p2, detail);
	}
	check_eligible(&a, &b);

	ecs_genome_check(a.genome, a.agent_id, ntraits);
	ecs_genome_check(b.genome, b.agent_id, ntraits);

	if (Max(a.generation, b.generation) == PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("generation of the child of \"%s\" and \"%s\" is out of range", p1, p2)));
	generation = Max(a.generation, b.generation) + 1;

	if (ecs_random_unit(seed, DRAW_SPIRIT_PARENT) < 0.5)
	{
		spirit_parent = &a;
		other_parent = &b;
	}
	else
	{
		spirit_parent = &b;
		other_parent = &a;
	}
	spirit = spirit_parent->spirit_id ? spirit_parent->spirit_id : other_parent->spirit_id;
	name = ecs_name_generate(spirit, ecs_random_u64(seed, DRAW_NAME_SEED), false);

	values[0] = child ? CStringGetTextDatum(child) : (Datum) 0;
	nulls[0] = child ? ' ' : 'n';
	values[1] = CStringGetTextDatum(name);
	values[2] = CStringGetTextDatum(ecs_random_unit(seed, DRAW_SEX) < 0.5 ? "female" : "male");
	values[3] = spirit ? CStringGetTextDatum(spirit) : (Datum) 0;
	nulls[3] = spirit ? ' ' : 'n';
	values[4] = Int32GetDatum(generation);
	values[5] = CStringGetTextDatum(p1);
	values[6] = CStringGetTextDatum(p2);
	values[7] = PointerGetDatum(child_genome(seed, &a, &b, sd, ntraits));

	rc = SPI_execute_plan(ecs_plan(ECS_PLAN_BREED_INSERT, insert_sql, 8, insert_types),
						  values, nulls, false, 1);
	if (rc != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "could not insert the child of \"%s\" and \"%s\"", p1, p2);
	result = (text *) SPI_datumTransfer(SPI_getbinval(SPI_tuptable->vals[0],
													  SPI_tuptable->tupdesc, 1, &isnull),
										false, -1);
	SPI_finish();
	PG_RETURN_TEXT_P(result);
}
