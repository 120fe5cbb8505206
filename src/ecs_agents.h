/*-------------------------------------------------------------------------
 *
 * ecs_agents.h
 *		Shared declarations of the ecs_agents extension.
 *
 * Every module includes this header.  It declares the GUC variables, the
 * agent-id validator and agent lookup that every SQL-callable function uses,
 * the SPI plan cache, the deterministic random source and the scoring,
 * pedigree and lineage APIs shared between modules.
 *
 * IDENTIFICATION
 *		src/ecs_agents.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ECS_AGENTS_H
#define ECS_AGENTS_H

#include "postgres.h"

#include <math.h>

#include "executor/spi.h"
#include "fmgr.h"
#include "storage/itemptr.h"
#include "utils/array.h"
#include "utils/snapshot.h"

#include "pg_compat.h"

/* identifiers: 3..64 characters of [A-Za-z0-9_-] (SPEC section 2) */
#define ECS_AGENT_ID_MIN	3
#define ECS_AGENT_ID_MAX	64

/*
 * Valid agent id: 3..64 bytes of [A-Za-z0-9_-], checked byte by byte (a
 * multibyte character is never accepted).  Inline: the batch functions
 * test every element of their arrays without a copy; a false answer goes
 * to ecs_agent_id_check_cstring(), which raises the error.
 */
static inline bool
ecs_agent_id_is_valid(const char *s, int len)
{
	int			i;

	if (len < ECS_AGENT_ID_MIN || len > ECS_AGENT_ID_MAX)
		return false;
	for (i = 0; i < len; i++)
	{
		char		c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* hard caps, independent of settings */
#define ECS_MAX_RESULTS		50		/* ecs_find_mates max_results */
#define ECS_MAX_TRAITS		1024	/* catalog size the scorer accepts */

/* GUC variables (ecs_agents.c) */
extern int	ecs_kinship_depth;
extern double ecs_kinship_penalty;
extern double ecs_max_relatedness;
extern int	ecs_max_lineage_depth;
extern int	ecs_max_lineage_nodes;
extern bool ecs_genome_index_simd;
extern bool ecs_genome_index_cache;
extern bool ecs_agent_row_cache;

/* ecs_agents.c: validation and lookups */
extern char *ecs_agent_id_check(text *id, const char *argname);
extern char *ecs_agent_id_check_cstring(const char *id, int len, const char *argname);
extern SPIPlanPtr ecs_plan(int slot, const char *sql, int nargs, const Oid *argtypes);
extern void ecs_report_unknown_agent(const char *id);
extern Oid	ecs_table_oid(const char *relname);

/*
 * ecs_agents.c: which transactions an MVCC snapshot sees as committed, kept
 * so that a later snapshot can be recognised as seeing the same ones (the
 * command id is the caller's business).  xip and subxip live in the context
 * given to ecs_snapshot_key_set.
 */
typedef struct EcsSnapshotKey
{
	TransactionId xmin;
	TransactionId xmax;
	uint32		xcnt;
	int32		subxcnt;
	bool		suboverflowed;
	bool		recovery;
	TransactionId *xip;
	TransactionId *subxip;
} EcsSnapshotKey;

extern void ecs_snapshot_key_set(EcsSnapshotKey *k, Snapshot snap, MemoryContext cxt);
extern bool ecs_snapshot_key_matches(const EcsSnapshotKey *k, Snapshot snap);
extern void ecs_plan_set(int slot, SPIPlanPtr plan);

/*
 * Slots of the process-wide SPI plan cache.  Each slot holds one saved plan
 * for one fixed query text; see ecs_plan().
 */
typedef enum EcsPlanSlot
{
	ECS_PLAN_CATALOG_COUNT,
	ECS_PLAN_CATALOG,
	ECS_PLAN_AGENT_ROW,
	ECS_PLAN_AGENT_ROWS,
	ECS_PLAN_PARENTS_OF,
	ECS_PLAN_CHILDREN_OF,
	ECS_PLAN_CYCLE_WALK,
	ECS_PLAN_MATES_SCAN,
	ECS_PLAN_MATES_CURSOR,
	ECS_PLAN_MATES_SCAN_ALL,
	ECS_PLAN_MATED,
	ECS_PLAN_POSITION,
	ECS_PLAN_NAME_PARTS,
	ECS_PLAN_ENABLED_SPIRITS,
	ECS_PLAN_BREED_LOCK,
	ECS_PLAN_BREED_PARENTS,
	ECS_PLAN_BREED_INSERT,
	ECS_PLAN_ALL_LINKS,
	ECS_PLAN_PARENTS_OF_TID,
	ECS_PLAN_AGENT_ROWS_TID,
	ECS_PLAN_SLOT_COUNT
} EcsPlanSlot;

/* random.c: deterministic random numbers (splitmix64), pure functions */
extern uint64 ecs_random_u64(uint64 seed, uint64 index);
extern double ecs_random_unit(uint64 seed, uint64 index);
extern double ecs_random_normal(uint64 seed, uint64 index);

#endif							/* ECS_AGENTS_H */

/*
 * One agent row as the walks read it (lineage.c).  Strings are NUL-terminated
 * and live in the memory context the walk was given; parent ids are "" when
 * NULL.  depth is the generation distance from the nearest start agent.
 */
typedef struct EcsAgentRow
{
	char		agent_id[ECS_AGENT_ID_MAX + 1];
	char		parent1_id[ECS_AGENT_ID_MAX + 1];
	char		parent2_id[ECS_AGENT_ID_MAX + 1];
	int32		generation;
	int32		depth;
	bool		active;
	char		sex;			/* 'f', 'm' or '\0' for NULL */
	char	   *name;			/* NULL when NULL */
} EcsAgentRow;

/* lineage.c: bounded level-by-level walks over the pedigree (SPI) */
extern Datum ecs_text_array_from_ids(char **ids, int n);
extern int	ecs_walk(char **seeds, int nseeds, bool up, int max_depth,
					 int max_nodes, bool narrow, MemoryContext cxt,
					 EcsAgentRow **rows_out);

/*
 * lineage.c: interned agent ids.  Each id is stored once as a text datum
 * (4-byte header) followed by a NUL, numbered densely from 0; compared as
 * bytes.  Lives in the context given to ecs_idtab_create.
 */
typedef struct EcsIdTable EcsIdTable;

extern EcsIdTable *ecs_idtab_create(MemoryContext cxt, int expected);
extern int	ecs_idtab_lookup(EcsIdTable *tab, const char *id, int len, bool insert,
							 bool *found);
extern int	ecs_idtab_count(const EcsIdTable *tab);
extern const char *ecs_idtab_cstring(const EcsIdTable *tab, int i);
extern Datum ecs_idtab_text(const EcsIdTable *tab, int i);

/*
 * lineage.c: one row of a walk over interned ids (ecs_walk_ids); parents
 * are -1 when NULL; name is NULL when NULL (or the walk is narrow).
 */
typedef struct EcsWalkRow
{
	int32		id;
	int32		p1;
	int32		p2;
	int32		depth;
	int32		generation;
	bool		active;
	char		sex;			/* 'f', 'm' or '\0' */
	text	   *name;
} EcsWalkRow;

extern int	ecs_walk_ids(EcsIdTable *tab, const int32 *seeds, int nseeds,
						 const EcsWalkRow *seed_rows, bool up, int max_depth,
						 int max_nodes, bool narrow, MemoryContext cxt,
						 EcsWalkRow **rows_out);

/* lineage.c: run a saved read-only plan, calling fn for every row */
typedef void (*EcsRowFn) (Datum *values, bool *nulls, void *arg);

extern void ecs_spi_each_row(SPIPlanPtr plan, int nargs, const Datum *args,
							 const Oid *types, EcsRowFn fn, void *arg);

/*
 * agent_cache.c: heap addresses of agent rows remembered per backend, for
 * ancestor walks; every hit is checked against the snapshot and the id.
 */
#define ECS_HINT_COLUMNS 7
typedef struct EcsHintScan EcsHintScan;

extern EcsHintScan *ecs_hints_begin(bool wide);
typedef enum EcsHintResult
{
	ECS_HINT_HIT,				/* row given to fn */
	ECS_HINT_SEEN,				/* met before: read it with its ctid */
	ECS_HINT_NEW				/* first time: read it without */
} EcsHintResult;

extern void ecs_hints_fetch_level(EcsHintScan *hs, char *const *ids, int n,
								  EcsRowFn fn, void *arg, EcsHintResult *res);
extern void ecs_hints_remember(EcsHintScan *hs, const char *id, int len, ItemPointer tid);
extern void ecs_hints_stats(const EcsHintScan *hs, uint64 *hits, uint64 *misses);
extern void ecs_hints_end(EcsHintScan *hs);

/* validate.c: the catalog size and the genome check */
extern int	ecs_catalog_size(void);
extern void ecs_genome_check(ArrayType *arr, const char *id, int ntraits);

/*
 * genome.c: the trait catalog and the pure trait score.
 *
 * score(a, b) = 1 - sum_t w_t |target_t(a) - b_t| / sum_t w_t, computed in
 * double from the stored float4 values, always in catalog order, by
 * ecs_weighted_l1(): every path (SQL scan, batch, pairwise) gets bit-identical
 * scores, so ties are ties everywhere.
 */
typedef struct EcsCatalog
{
	int			ntraits;
	double	   *weight;			/* [ntraits] */
	bool	   *complement;		/* [ntraits] */
	double	   *mutation_sd;	/* [ntraits] */
	double		weight_sum;
} EcsCatalog;

extern EcsCatalog *ecs_catalog_load(MemoryContext cxt);
extern void ecs_genome_values(Datum genome, const char *id, int ntraits, float4 *out);
extern const float4 *ecs_genome_read(Datum d, float4 *buf, int nt);
extern void ecs_genome_target(const EcsCatalog *cat, const float4 *a, double *target);

static inline double
ecs_weighted_l1(const double *target, const double *weight, const float4 *b, int n)
{
	double		sum = 0.0;
	int			t;

	for (t = 0; t < n; t++)
	{
		/* fabs, not a branch: signs are unpredictable; the same sums */
		sum += weight[t] * fabs(target[t] - (double) b[t]);
	}
	return sum;
}

static inline double
ecs_score_from_l1(double l1, double weight_sum)
{
	return 1.0 - l1 / weight_sum;
}

/*
 * kinship.c: the pedigree graph of a call, kinship over truncated
 * sub-pedigrees (SPEC section 3).
 */
typedef struct EcsPedigree EcsPedigree;

extern EcsPedigree *ecs_pedigree_create(MemoryContext cxt, int depth);
extern void ecs_pedigree_load(EcsPedigree *ped, char **ids, int n);
extern void ecs_pedigree_load_known(EcsPedigree *ped, char **ids, char **p1, char **p2,
									int n);
extern void ecs_pedigree_load_all(EcsPedigree *ped);
extern int	ecs_pedigree_find(EcsPedigree *ped, const char *id);
extern bool ecs_pedigree_is_seed(EcsPedigree *ped, const char *id);
extern bool ecs_pedigree_node_is_seed(EcsPedigree *ped, int x);
extern bool ecs_pedigree_may_relate(EcsPedigree *ped, int a, int b);
extern double ecs_pedigree_kinship(EcsPedigree *ped, int a, int b);
extern int	ecs_topo_order(int n, const int32 *p1, const int32 *p2, int32 *ord,
						   int32 **pending_out);
extern double ecs_relatedness_value(EcsPedigree *ped, int a, int b);
extern double ecs_final_score(double trait_score, double relatedness);

/* compatibility.c: agents with their genomes, read by id */
typedef struct EcsAgent
{
	char		id[ECS_AGENT_ID_MAX + 1];
	bool		found;
	bool		active;
	char		sex;			/* 'f', 'm' or '\0' */
	int32		generation;
	float4	   *genome;			/* [ntraits], in the caller's context */
} EcsAgent;

extern void ecs_agents_fetch(char **ids, int n, const EcsCatalog *cat,
							 MemoryContext cxt, EcsAgent *out);
extern void ecs_agents_fetch_links(char **ids, int n, const EcsCatalog *cat,
								   MemoryContext cxt, EcsAgent *out, char **p1, char **p2);
extern const char *ecs_ineligible_reason(const EcsAgent *a, const EcsAgent *b,
										 double relatedness);
extern char **ecs_distinct_agents(char **ids, int n, int *map, int *ndistinct);
extern char **ecs_ids_argument(ArrayType *arr, const char *argname, int *n,
							   Datum **elems_out);
