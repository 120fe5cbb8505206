/*-------------------------------------------------------------------------
 *
 * validate.c
 *		Row checks of ecs.agents that a CHECK constraint cannot express:
 *		the genome matches the trait catalog, and a parent link never makes
 *		an agent its own ancestor.
 *
 * ecs_agents_before_write() is the BEFORE INSERT OR UPDATE row trigger of
 * ecs.agents.  It reads the catalog and the pedigree through SPI, as the
 * writing user, so it sees what that user sees.  Two sessions re-parenting
 * concurrently can still close a cycle (neither sees the other's row); the
 * readers detect that and raise 22000 instead of looping (kinship.c).
 *
 * IDENTIFICATION
 *		src/validate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "nodes/makefuncs.h"
#include "storage/lmgr.h"
#include "utils/snapmgr.h"
#include "ecs_agents.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

static const char *const catalog_count_sql =
"SELECT pg_catalog.count(*)::pg_catalog.int4 FROM ecs.trait_catalog";

/*
 * ecs_catalog_size
 *		Number of traits in ecs.trait_catalog.  Connected to SPI.
 */
int
ecs_catalog_size(void)
{
	SPIPlanPtr	plan = ecs_plan(ECS_PLAN_CATALOG_COUNT, catalog_count_sql, 0, NULL);
	bool		isnull;
	int			rc;
	int			n;

	rc = SPI_execute_plan(plan, NULL, NULL, true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not count the trait catalog");
	n = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return n;
}

/*
 * catalog size under the latest snapshot, for a transaction whose own
 * snapshot may predate a committed ecs_add_trait()
 */
static int
catalog_size_latest(void)
{
	SPIPlanPtr	plan = ecs_plan(ECS_PLAN_CATALOG_COUNT, catalog_count_sql, 0, NULL);
	bool		isnull;
	int			rc;
	int			n;

	rc = SPI_execute_snapshot(plan, NULL, NULL, GetLatestSnapshot(), InvalidSnapshot,
							  true, false, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not count the trait catalog");
	n = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return n;
}

/*
 * ecs_genome_check
 *		Validate a genome array for agent id: one dimension, no NULLs, every
 *		value finite and in [0, 1], length ntraits (skipped when < 0).
 *		Raises 22023 naming the agent, the position and the value.
 */
void
ecs_genome_check(ArrayType *arr, const char *id, int ntraits)
{
	int			n;
	float4	   *v;
	int			i;

	if (ARR_ELEMTYPE(arr) != FLOAT4OID)
		elog(ERROR, "genome must be of type real[]");
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("genome of agent \"%s\" must be a one-dimensional array", id)));
	if (ARR_HASNULL(arr) && array_contains_nulls(arr))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("genome of agent \"%s\" contains NULL values", id),
				 errhint("Give every trait a value in [0, 1].")));
	n = ARR_NDIM(arr) == 0 ? 0 : ARR_DIMS(arr)[0];
	if (ntraits >= 0 && n != ntraits)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("genome of agent \"%s\" has %d values, the trait catalog has %d traits",
						id, n, ntraits),
				 errhint("Give one value per ecs.trait_catalog row, in position order.")));
	v = (float4 *) ARR_DATA_PTR(arr);
	for (i = 0; i < n; i++)
	{
		if (!(v[i] >= 0.0f && v[i] <= 1.0f))	/* also false for NaN */
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("genome value %g of agent \"%s\" at position %d is outside [0, 1]",
							(double) v[i], id, i),
					 errhint("Trait values are finite numbers between 0 and 1.")));
	}
}

/* text column as a C string in buf, or "" when NULL */
static void
id_column(HeapTuple tup, TupleDesc desc, int attnum, char *buf)
{
	bool		isnull;
	Datum		d = heap_getattr(tup, attnum, desc, &isnull);

	if (isnull)
		buf[0] = '\0';
	else
		text_to_cstring_buffer(DatumGetTextPP(d), buf, ECS_AGENT_ID_MAX + 1);
}

/*
 * Refuse a parent link that would make id its own ancestor: walk id's
 * descendants (bounded by max_lineage_nodes) and look for the new parents.
 */
static void
check_no_cycle(const char *id, const char *p1, const char *p2)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "ecs cycle check", ALLOCSET_DEFAULT_SIZES);
	EcsAgentRow *rows;
	char	   *seed = (char *) id;
	int			n;
	int			i;

	n = ecs_walk(&seed, 1, false, INT_MAX, ecs_max_lineage_nodes, true, cxt, &rows);
	for (i = 0; i < n; i++)
	{
		if ((p1[0] && strcmp(rows[i].agent_id, p1) == 0) ||
			(p2[0] && strcmp(rows[i].agent_id, p2) == 0))
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("parent link would make agent \"%s\" its own ancestor", id),
					 errdetail("Agent \"%s\" is a descendant of \"%s\", %d generation(s) down.",
							   rows[i].agent_id, id, rows[i].depth),
					 errhint("A pedigree cannot contain cycles.")));
	}
	MemoryContextDelete(cxt);
}

PG_FUNCTION_INFO_V1(ecs_agents_before_write);

/*
 * ecs_agents_before_write()
 *		BEFORE INSERT OR UPDATE FOR EACH ROW trigger of ecs.agents.
 */
Datum
ecs_agents_before_write(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	newtup;
	HeapTuple	oldtup = NULL;
	int			genome_att,
				id_att,
				p1_att,
				p2_att;
	bool		isnull;
	Datum		genome;
	char		id[ECS_AGENT_ID_MAX + 1];
	bool		check_genome = true;
	bool		check_parents = false;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		elog(ERROR, "ecs_agents_before_write must be a BEFORE ... FOR EACH ROW trigger");

	desc = RelationGetDescr(trigdata->tg_relation);
	genome_att = SPI_fnumber(desc, "genome");
	id_att = SPI_fnumber(desc, "agent_id");
	p1_att = SPI_fnumber(desc, "parent1_id");
	p2_att = SPI_fnumber(desc, "parent2_id");
	if (genome_att <= 0 || id_att <= 0 || p1_att <= 0 || p2_att <= 0)
		elog(ERROR, "ecs_agents_before_write: unexpected table layout");

	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		Datum		oldg;
		bool		oldnull;
		char		a[ECS_AGENT_ID_MAX + 1],
					b[ECS_AGENT_ID_MAX + 1];

		newtup = trigdata->tg_newtuple;
		oldtup = trigdata->tg_trigtuple;
		genome = heap_getattr(newtup, genome_att, desc, &isnull);
		oldg = heap_getattr(oldtup, genome_att, desc, &oldnull);
		if (!isnull && !oldnull &&
			datumIsEqual(genome, oldg, false, -1))
			check_genome = false;
		id_column(newtup, desc, p1_att, a);
		id_column(oldtup, desc, p1_att, b);
		if (strcmp(a, b) != 0)
			check_parents = true;
		id_column(newtup, desc, p2_att, a);
		id_column(oldtup, desc, p2_att, b);
		if (strcmp(a, b) != 0)
			check_parents = true;
	}
	else if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
	{
		newtup = trigdata->tg_trigtuple;
		genome = heap_getattr(newtup, genome_att, desc, &isnull);
	}
	else
		elog(ERROR, "ecs_agents_before_write fired for an unexpected event");

	id_column(newtup, desc, id_att, id);

	if (check_genome && !isnull)	/* NULL: the NOT NULL constraint reports it */
	{
		ArrayType  *arr = DatumGetArrayTypeP(genome);
		int			ntraits;

		ecs_genome_check(arr, id, -1);	/* values first, without SPI */

		/*
		 * Store genomes 1-based whatever bounds the writer gave
		 * ('[0:15]={...}'), so genome[position + 1] is the trait everywhere.
		 */
		if (ARR_NDIM(arr) == 1 && ARR_LBOUND(arr)[0] != 1)
		{
			int			one = 1;
			int			attnum = genome_att;
			Datum		newval;
			bool		newnull = false;

			arr = DatumGetArrayTypePCopy(PointerGetDatum(arr));
			memcpy(ARR_LBOUND(arr), &one, sizeof(int));
			newval = PointerGetDatum(arr);
			newtup = heap_modify_tuple_by_cols(newtup, desc, 1, &attnum, &newval, &newnull);
		}

		SPI_connect();
		ntraits = ecs_catalog_size();
		ecs_genome_check(arr, id, ntraits);

		/*
		 * A transaction-snapshot transaction may predate an ecs_add_trait()
		 * that committed while this write waited for its lock: the genome
		 * fits the catalog this transaction sees, not the one now stored.
		 */
		if (IsolationUsesXactSnapshot() && catalog_size_latest() != ntraits)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to a concurrent change of the trait catalog"),
					 errdetail("The genome of agent \"%s\" has %d values; a concurrent ecs_add_trait() changed the catalog.",
							   id, ntraits),
					 errhint("Retry the transaction.")));
		SPI_finish();
	}
	if (check_parents)
	{
		char		p1[ECS_AGENT_ID_MAX + 1],
					p2[ECS_AGENT_ID_MAX + 1];

		id_column(newtup, desc, p1_att, p1);
		id_column(newtup, desc, p2_att, p2);
		if (p1[0] || p2[0])
		{
			SPI_connect();
			check_no_cycle(id, p1, p2);
			SPI_finish();
		}
	}
	return PointerGetDatum(newtup);
}
