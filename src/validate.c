/*-------------------------------------------------------------------------
 *
 * validate.c
 *		Row checks of ecs.agents that a CHECK constraint cannot express:
 *		the genome matches the trait catalog, and a parent link never makes
 *		an agent its own ancestor.
 *
 * ecs_agents_before_write() is the BEFORE INSERT OR UPDATE row trigger of
 * ecs.agents (the genome); the pedigree is checked once the statement's
 * rows are all in the table, where a BEFORE trigger would miss the links
 * that other rows of the same statement make:
 *
 *	- ecs_agents_after_insert(), an AFTER INSERT statement trigger over the
 *	  statement's new rows (transition table), without SPI: rows in the
 *	  table before the statement cannot name a new row as parent (the
 *	  foreign keys held when they were written, and an UPDATE that names
 *	  one is checked below), so a cycle an INSERT closes lies among its
 *	  own new rows.
 *	- ecs_agents_after_reparent(), an AFTER UPDATE row trigger on rows
 *	  whose parents changed: walks the agent's descendants, with every row
 *	  of the statement visible, looking for its new parents.
 *
 * Both read as the writing user, so they see what that user sees.  Two
 * sessions re-parenting concurrently can still close a cycle (neither sees
 * the other's row); the readers detect that and raise 22000 instead of
 * looping (kinship.c).
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
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "nodes/makefuncs.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/snapmgr.h"
#include "ecs_agents.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/tuplestore.h"

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
 * The catalog size of the last row checked, and when it holds: the same
 * user, local transaction and command id, and a snapshot that sees the same
 * transactions as committed (EcsSnapshotKey), so the same rows of
 * ecs.trait_catalog; no row-level security on it.  The rows of one INSERT
 * or UPDATE statement share all of these: one count per statement.
 */
static struct
{
	bool		valid;
	Oid			userid;
	LocalTransactionId lxid;
	CommandId	curcid;
	EcsSnapshotKey snapkey;		/* arrays in cxt */
	MemoryContext cxt;
	int			ntraits;
} catalog_size_memo;

/*
 * ecs_catalog_size() for a row of the trigger: from the memo when its key
 * holds, else counted (and memoised when row-level security does not apply
 * to the catalog: looked up only then, since it cannot change while the key
 * holds).
 */
static int
catalog_size_for_row(void)
{
	Snapshot	snap = ActiveSnapshotSet() ? GetActiveSnapshot() : NULL;
	bool		mvcc = snap != NULL && snap->snapshot_type == SNAPSHOT_MVCC;
	Oid			relid;
	int			n;

	if (mvcc && catalog_size_memo.valid &&
		catalog_size_memo.userid == GetUserId() &&
		catalog_size_memo.lxid == ECS_MY_LXID &&
		catalog_size_memo.curcid == snap->curcid &&
		ecs_snapshot_key_matches(&catalog_size_memo.snapkey, snap))
		return catalog_size_memo.ntraits;

	SPI_connect();
	n = ecs_catalog_size();
	SPI_finish();
	catalog_size_memo.valid = false;
	relid = ecs_table_oid("trait_catalog");
	if (mvcc && OidIsValid(relid) && check_enable_rls(relid, InvalidOid, true) == RLS_NONE)
	{
		if (catalog_size_memo.cxt == NULL)
			catalog_size_memo.cxt = AllocSetContextCreate(TopMemoryContext, "ecs catalog size",
														  ALLOCSET_SMALL_SIZES);
		MemoryContextReset(catalog_size_memo.cxt);
		catalog_size_memo.userid = GetUserId();
		catalog_size_memo.lxid = ECS_MY_LXID;
		catalog_size_memo.curcid = snap->curcid;
		ecs_snapshot_key_set(&catalog_size_memo.snapkey, snap, catalog_size_memo.cxt);
		catalog_size_memo.ntraits = n;
		catalog_size_memo.valid = true;
	}
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

		newtup = trigdata->tg_newtuple;
		oldtup = trigdata->tg_trigtuple;
		genome = heap_getattr(newtup, genome_att, desc, &isnull);
		oldg = heap_getattr(oldtup, genome_att, desc, &oldnull);
		if (!isnull && !oldnull &&
			datumIsEqual(genome, oldg, false, -1))
			check_genome = false;
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

		if (!IsolationUsesXactSnapshot())
		{
			ntraits = catalog_size_for_row();
			ecs_genome_check(arr, id, ntraits);
		}
		else
		{
			SPI_connect();
			ntraits = ecs_catalog_size();
			ecs_genome_check(arr, id, ntraits);

			/*
			 * A transaction-snapshot transaction may predate an
			 * ecs_add_trait() that committed while this write waited for its
			 * lock: the genome fits the catalog this transaction sees, not
			 * the one now stored.
			 */
			if (catalog_size_latest() != ntraits)
				ereport(ERROR,
						(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
						 errmsg("could not serialize access due to a concurrent change of the trait catalog"),
						 errdetail("The genome of agent \"%s\" has %d values; a concurrent ecs_add_trait() changed the catalog.",
								   id, ntraits),
						 errhint("Retry the transaction.")));
			SPI_finish();
		}
	}
	return PointerGetDatum(newtup);
}

PG_FUNCTION_INFO_V1(ecs_agents_after_reparent);

/*
 * ecs_agents_after_reparent()
 *		AFTER UPDATE FOR EACH ROW trigger of ecs.agents, fired (WHEN clause)
 *		for rows whose parent links changed: 23514 when a new parent is a
 *		descendant of the agent.  It runs after the whole statement, and
 *		reads with a new snapshot after a command counter increment (as a
 *		volatile PL function would), so links made by other rows of the
 *		same statement count.
 */
Datum
ecs_agents_after_reparent(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	char		id[ECS_AGENT_ID_MAX + 1],
				p1[ECS_AGENT_ID_MAX + 1],
				p2[ECS_AGENT_ID_MAX + 1];

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		elog(ERROR, "ecs_agents_after_reparent must be an AFTER UPDATE ... FOR EACH ROW trigger");
	desc = RelationGetDescr(trigdata->tg_relation);
	id_column(trigdata->tg_newtuple, desc, SPI_fnumber(desc, "agent_id"), id);
	id_column(trigdata->tg_newtuple, desc, SPI_fnumber(desc, "parent1_id"), p1);
	id_column(trigdata->tg_newtuple, desc, SPI_fnumber(desc, "parent2_id"), p2);
	if (p1[0] || p2[0])
	{
		CommandCounterIncrement();
		PushActiveSnapshot(GetTransactionSnapshot());
		SPI_connect();
		check_no_cycle(id, p1, p2);
		SPI_finish();
		PopActiveSnapshot();
	}
	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(ecs_agents_after_insert);

/*
 * ecs_agents_after_insert()
 *		AFTER INSERT FOR EACH STATEMENT trigger of ecs.agents, with the
 *		statement's rows as transition table: 23514 when rows of the
 *		statement name each other as parents in a cycle.  Only rows with a
 *		parent can be on a cycle, and a cycle needs two of them (an agent is
 *		never its own parent: CHECK constraints), so single-row inserts cost
 *		nothing but the transition table.  A topological sort of the new
 *		rows with parents: O(rows) time and memory.
 */
Datum
ecs_agents_after_insert(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	TupleTableSlot *slot;
	MemoryContext cxt,
				oldcxt;
	EcsIdTable *tab;
	int			id_att,
				p1_att,
				p2_att;
	int			n = 0,
				m,
				cap = 64,
				readptr,
				i;
	int32	   *child,
			   *par1,
			   *par2,
			   *ord,
			   *pending;
	char	  **p1s,
			  **p2s;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) || trigdata->tg_newtable == NULL)
		elog(ERROR, "ecs_agents_after_insert must be an AFTER INSERT ... FOR EACH STATEMENT trigger with REFERENCING NEW TABLE");
	if (tuplestore_tuple_count(trigdata->tg_newtable) < 2)
		return PointerGetDatum(NULL);

	desc = RelationGetDescr(trigdata->tg_relation);
	id_att = SPI_fnumber(desc, "agent_id");
	p1_att = SPI_fnumber(desc, "parent1_id");
	p2_att = SPI_fnumber(desc, "parent2_id");
	if (id_att <= 0 || p1_att <= 0 || p2_att <= 0)
		elog(ERROR, "ecs_agents_after_insert: unexpected table layout");
	cxt = AllocSetContextCreate(CurrentMemoryContext, "ecs insert cycle check",
								ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);
	tab = ecs_idtab_create(cxt, 1024);
	child = palloc(sizeof(int32) * cap);
	p1s = palloc(sizeof(char *) * cap);
	p2s = palloc(sizeof(char *) * cap);

	/*
	 * The new rows with a parent: their ids interned as 0..m-1.  Our own
	 * read pointer over the transition table, from its start (other
	 * triggers of the statement may read it too).
	 */
	readptr = tuplestore_alloc_read_pointer(trigdata->tg_newtable, EXEC_FLAG_REWIND);
	tuplestore_select_read_pointer(trigdata->tg_newtable, readptr);
	tuplestore_rescan(trigdata->tg_newtable);
	slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	while (tuplestore_gettupleslot(trigdata->tg_newtable, true, false, slot))
	{
		bool		null1,
					null2,
					nullid;
		Datum		d1 = slot_getattr(slot, p1_att, &null1);
		Datum		d2 = slot_getattr(slot, p2_att, &null2);
		Datum		did;
		text	   *t;

		CHECK_FOR_INTERRUPTS();
		if (null1 && null2)
			continue;
		did = slot_getattr(slot, id_att, &nullid);
		if (nullid)
			continue;			/* NOT NULL: cannot happen */
		if (n >= cap)
		{
			cap *= 2;
			child = repalloc_huge(child, sizeof(int32) * (Size) cap);
			p1s = repalloc_huge(p1s, sizeof(char *) * (Size) cap);
			p2s = repalloc_huge(p2s, sizeof(char *) * (Size) cap);
		}
		t = DatumGetTextPP(did);
		child[n] = ecs_idtab_lookup(tab, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), true, NULL);
		p1s[n] = null1 ? NULL : TextDatumGetCString(d1);
		p2s[n] = null2 ? NULL : TextDatumGetCString(d2);
		n++;
	}
	ExecDropSingleTupleTableSlot(slot);
	tuplestore_select_read_pointer(trigdata->tg_newtable, 0);
	m = ecs_idtab_count(tab);	/* n, unless the primary key was dropped */

	/*
	 * Edges child -> parent between those rows (ids are unique: the primary
	 * key holds), ordered parents first (ecs_topo_order, kinship.c).  Rows
	 * left unplaced are on or below a cycle, and each has a parent left:
	 * following such parents leads onto the cycle.
	 */
	par1 = palloc(sizeof(int32) * Max(m, 1));
	par2 = palloc(sizeof(int32) * Max(m, 1));
	ord = palloc(sizeof(int32) * Max(m, 1));
	for (i = 0; i < m; i++)
		par1[i] = par2[i] = -1;
	for (i = 0; i < n; i++)
	{
		int32		x = child[i];

		if (par1[x] >= 0 || par2[x] >= 0)
			continue;			/* an id twice (no primary key): its first row */
		par1[x] = p1s[i] ? ecs_idtab_lookup(tab, p1s[i], strlen(p1s[i]), false, NULL) : -1;
		par2[x] = p2s[i] ? ecs_idtab_lookup(tab, p2s[i], strlen(p2s[i]), false, NULL) : -1;
	}
	if (ecs_topo_order(m, par1, par2, ord, &pending) < m)
	{
		int32		x = 0,
					steps;

		while (pending[x] == 0)
			x++;
		for (steps = 0; steps < m; steps++)
			x = (par1[x] >= 0 && pending[par1[x]] > 0) ? par1[x] : par2[x];
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("parent link would make agent \"%s\" its own ancestor",
						ecs_idtab_cstring(tab, x)),
				 errdetail("Rows inserted by one statement name each other as parents in a cycle."),
				 errhint("A pedigree cannot contain cycles.")));
	}
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(cxt);
	return PointerGetDatum(NULL);
}
