/*-------------------------------------------------------------------------
 *
 * kinship.c
 *		Kinship over the truncated pedigree (SPEC section 3): the pedigree
 *		graph of a call, the coefficient of coancestry, relatedness and
 *		inbreeding, and the SQL functions ecs_kinship, ecs_relatedness and
 *		ecs_inbreeding.
 *
 * The graph (EcsPedigree) holds the agents a call has loaded with
 * ecs_walk() -- every visible agent within `depth` generations above the
 * seeds -- and interns the ids of their parents, loaded or not.  For a pair
 * (a, b) the sub-pedigree is every loaded agent within `depth` generations
 * above a or above b; a parent link counts when both ends are members
 * (even past the depth from one side); other parents are unknown.  Then
 *
 *		phi(x, x) = 1/2 (1 + phi(p1(x), p2(x)))
 *		phi(x, y) = 1/2 (phi(x, p1(y)) + phi(x, p2(y)))	y not an ancestor of x
 *		phi(unknown, .) = 0
 *
 * evaluated by memoised recursion along a topological order of the
 * sub-pedigree (parents first): of two distinct agents the one later in the
 * order is never an ancestor of the other.  A cycle inside the sub-pedigree
 * is reported as 22000 data_exception naming agents on it.
 *
 * IDENTIFICATION
 *		src/kinship.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "ecs_agents.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

/*
 * A quick exact filter avoids that work for unrelated pairs: phi(a, b) > 0
 * needs a common ancestor in the sub-pedigree, and then the sets
 * S(x) = {agents within depth of x} plus their parents meet (a path from a
 * or b that leaves its own depth-d set enters the other's through a parent
 * of one of its depth-d agents).  So when S(a) and S(b) are disjoint,
 * phi(a, b) = 0 exactly; when they meet, phi is computed.
 *
 * Memory: nodes, S-sets and scratch live in the pedigree's context; the
 * memo of one pair is bounded by (members)^2 and capped (54000).
 */

/* memo entries one pair may use before 54000 */
#define ECS_KINSHIP_MAX_MEMO	(16 * 1024 * 1024)
/* sub-pedigrees up to this size use the tabular method (m(m+1)/2 doubles) */
#define ECS_KINSHIP_TABULAR		1024

typedef struct PedNode
{
	const char *id;				/* the id, in the pedigree's id table */
	int32		p1;				/* interned parent index, -1 when NULL */
	int32		p2;
	bool		loaded;			/* its row was read (visible to the caller) */
	int32		reach;			/* ancestors loaded this many generations up */
	int32		nsig;			/* S-set size, -1 until computed */
	int32	   *sig;			/* S-set, in BFS order */
} PedNode;

struct EcsPedigree
{
	MemoryContext cxt;
	int			depth;
	EcsIdTable *ids;			/* node i is id i of this table */
	PedNode    *nodes;
	int			n;
	int			cap;
	/* per-pair scratch, sized cap */
	int32	   *seen_a;
	int32	   *seen_b;
	int32	   *local;
	int32		stamp;
	int32	   *queue;
	int32	   *qdepth;
	/* S-set of node marked (-1: none) has mark[] == mark_stamp, sized cap */
	int32	   *mark;
	int32		mark_stamp;
	int32		marked;
	/* whether the loaded graph is free of cycles: -1 unknown, 0 no, 1 yes */
	int			acyclic;
};

typedef struct MemoEntry
{
	uint64		key;
	double		value;
} MemoEntry;

typedef struct KinCtx
{
	int			m;				/* members */
	int32	   *node;			/* member -> pedigree node */
	int32	   *p1;				/* member -> member parent or -1 */
	int32	   *p2;
	int32	   *ord;			/* topological position */
	HTAB	   *memo;
	long		computed;
} KinCtx;

static void sub_pedigree(EcsPedigree *ped, int32 *member, int m, KinCtx *k,
						 const char *who_a, const char *who_b);

/*
 * ecs_pedigree_create
 *		An empty graph for kinship truncated at depth, in a child of cxt.
 */
EcsPedigree *
ecs_pedigree_create(MemoryContext cxt, int depth)
{
	MemoryContext pcxt = AllocSetContextCreate(cxt, "ecs pedigree", ALLOCSET_DEFAULT_SIZES);
	EcsPedigree *ped = MemoryContextAllocZero(pcxt, sizeof(EcsPedigree));

	ped->cxt = pcxt;
	ped->depth = depth;
	ped->ids = ecs_idtab_create(pcxt, 1024);
	ped->cap = 256;
	ped->acyclic = -1;
	ped->nodes = MemoryContextAlloc(pcxt, sizeof(PedNode) * ped->cap);
	ped->seen_a = MemoryContextAllocZero(pcxt, sizeof(int32) * ped->cap);
	ped->seen_b = MemoryContextAllocZero(pcxt, sizeof(int32) * ped->cap);
	ped->local = MemoryContextAlloc(pcxt, sizeof(int32) * ped->cap);
	ped->queue = MemoryContextAlloc(pcxt, sizeof(int32) * ped->cap);
	ped->qdepth = MemoryContextAlloc(pcxt, sizeof(int32) * ped->cap);
	ped->mark = MemoryContextAllocZero(pcxt, sizeof(int32) * ped->cap);
	ped->marked = -1;
	return ped;
}

/* one node per id of the table (new ones not loaded) */
static void
cover_ids(EcsPedigree *ped)
{
	int			n = ecs_idtab_count(ped->ids);

	if (n > ped->cap)
	{
		int			newcap = Max(n, ped->cap * 2);

		ped->nodes = repalloc_huge(ped->nodes, sizeof(PedNode) * (Size) newcap);
		ped->seen_a = repalloc_huge(ped->seen_a, sizeof(int32) * (Size) newcap);
		ped->seen_b = repalloc_huge(ped->seen_b, sizeof(int32) * (Size) newcap);
		ped->local = repalloc_huge(ped->local, sizeof(int32) * (Size) newcap);
		ped->queue = repalloc_huge(ped->queue, sizeof(int32) * (Size) newcap);
		ped->qdepth = repalloc_huge(ped->qdepth, sizeof(int32) * (Size) newcap);
		ped->mark = repalloc_huge(ped->mark, sizeof(int32) * (Size) newcap);
		memset(ped->mark + ped->cap, 0, sizeof(int32) * (newcap - ped->cap));
		memset(ped->seen_a + ped->cap, 0, sizeof(int32) * (newcap - ped->cap));
		memset(ped->seen_b + ped->cap, 0, sizeof(int32) * (newcap - ped->cap));
		ped->cap = newcap;
	}
	for (; ped->n < n; ped->n++)
	{
		PedNode    *nd = &ped->nodes[ped->n];

		nd->id = ecs_idtab_cstring(ped->ids, ped->n);
		nd->p1 = nd->p2 = -1;
		nd->loaded = false;
		nd->reach = -1;
		nd->nsig = -1;
		nd->sig = NULL;
	}
}

/*
 * ecs_pedigree_find
 *		Index of a loaded agent, or -1.
 */
int
ecs_pedigree_find(EcsPedigree *ped, const char *id)
{
	int			k = ecs_idtab_lookup(ped->ids, id, strlen(id), false, NULL);

	if (k < 0 || k >= ped->n || !ped->nodes[k].loaded)
		return -1;
	return k;
}

/*
 * ecs_pedigree_is_seed
 *		Whether id is loaded with its ancestors to the full depth, i.e. can
 *		be one side of a pair.  A node loaded as somebody's ancestor at depth
 *		k has its own ancestors only to depth - k.
 */
bool
ecs_pedigree_is_seed(EcsPedigree *ped, const char *id)
{
	int			x = ecs_pedigree_find(ped, id);

	return x >= 0 && ecs_pedigree_node_is_seed(ped, x);
}

/* the same for the loaded node x */
bool
ecs_pedigree_node_is_seed(EcsPedigree *ped, int x)
{
	return ped->nodes[x].reach >= ped->depth;
}

/*
 * ecs_pedigree_load
 *		Load every visible agent within depth generations above ids (SPI,
 *		connected).  The walk is capped at max_lineage_nodes per seed.
 */
void
ecs_pedigree_load(EcsPedigree *ped, char **ids, int n)
{
	ecs_pedigree_load_known(ped, ids, NULL, NULL, n);
}

/*
 * ecs_pedigree_load_known
 *		ecs_pedigree_load() for seeds whose rows the caller has read in the
 *		same snapshot (all visible): p1[i], p2[i] are the parents of ids[i]
 *		("" or NULL when none), and the walk starts one generation up.
 *		p1 = p2 = NULL: the seeds are read by the walk.
 */
void
ecs_pedigree_load_known(EcsPedigree *ped, char **ids, char **p1, char **p2, int n)
{
	MemoryContext walkcxt;
	EcsWalkRow *rows;
	EcsWalkRow *seed_rows = NULL;
	int32	   *seeds;
	int			nrows;
	int			i;
	int64		cap = (int64) ecs_max_lineage_nodes * Max(n, 1);

	if (n <= 0)
		return;
	ped->acyclic = -1;
	walkcxt = AllocSetContextCreate(CurrentMemoryContext, "ecs pedigree walk",
									ALLOCSET_DEFAULT_SIZES);
	seeds = MemoryContextAlloc(walkcxt, sizeof(int32) * n);
	for (i = 0; i < n; i++)
		seeds[i] = ecs_idtab_lookup(ped->ids, ids[i], strlen(ids[i]), true, NULL);
	if (p1 != NULL && p2 != NULL)
	{
		seed_rows = MemoryContextAllocZero(walkcxt, sizeof(EcsWalkRow) * n);
		for (i = 0; i < n; i++)
		{
			seed_rows[i].p1 = (p1[i] && p1[i][0]) ?
				ecs_idtab_lookup(ped->ids, p1[i], strlen(p1[i]), true, NULL) : -1;
			seed_rows[i].p2 = (p2[i] && p2[i][0]) ?
				ecs_idtab_lookup(ped->ids, p2[i], strlen(p2[i]), true, NULL) : -1;
		}
	}
	nrows = ecs_walk_ids(ped->ids, seeds, n, seed_rows, true, ped->depth,
						 (int) Min(cap, (int64) INT_MAX), true, walkcxt, &rows);
	cover_ids(ped);
	for (i = 0; i < nrows; i++)
	{
		PedNode    *nd = &ped->nodes[rows[i].id];

		CHECK_FOR_INTERRUPTS();
		if (nd->reach < ped->depth - rows[i].depth)
			nd->reach = ped->depth - rows[i].depth;
		if (nd->loaded)
			continue;
		nd->loaded = true;
		nd->p1 = rows[i].p1;
		nd->p2 = rows[i].p2;
	}
	MemoryContextDelete(walkcxt);
}

/*
 * Every agent's parent links, for ecs_pedigree_load_all: one sequential
 * read of the table, in no particular order.
 */
static const char *const all_links_sql =
"SELECT agent_id::pg_catalog.text, parent1_id::pg_catalog.text, "
"parent2_id::pg_catalog.text FROM ecs.agents";

/* interned index of a text datum's id */
static inline int32
intern_text(EcsIdTable *ids, Datum d)
{
	text	   *t = DatumGetTextPP(d);

	return ecs_idtab_lookup(ids, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), true, NULL);
}

/* one row of all_links_sql: the agent, loaded, a seed */
static void
load_all_row(Datum *values, bool *nulls, void *arg)
{
	EcsPedigree *ped = (EcsPedigree *) arg;
	int32		id,
				p1,
				p2;
	PedNode    *nd;

	CHECK_FOR_INTERRUPTS();
	if (nulls[0])
		return;
	id = intern_text(ped->ids, values[0]);
	p1 = nulls[1] ? -1 : intern_text(ped->ids, values[1]);
	p2 = nulls[2] ? -1 : intern_text(ped->ids, values[2]);
	cover_ids(ped);
	nd = &ped->nodes[id];
	nd->reach = ped->depth;
	nd->loaded = true;
	nd->p1 = p1;
	nd->p2 = p2;
}

/*
 * ecs_pedigree_load_all
 *		Load every agent visible to the caller, each with its parent links
 *		and as a seed (ecs_pedigree_is_seed), with one read of ecs.agents
 *		(SPI, connected; rows streamed, not materialised).
 *
 * For the walks' callers this changes no value: kinship and the S-sets only
 * follow loaded nodes up from a and b (bfs_up), and every loaded node
 * within depth of a visible agent is exactly what the walks load -- an
 * agent the caller cannot see is absent either way, and no path passes
 * through it.  Nodes farther up are loaded too but never reached.  A cycle
 * anywhere in the table makes graph_is_acyclic() false, so each S-set
 * checks its own members for a cycle (compute_sig): only a cycle among a
 * pair's members is ever reported, as with the walks.  The one difference
 * is the walks' cap: they raise 54000 past max_lineage_nodes agents per
 * seed, which a seed's walk (at most 2^(depth + 1) - 1 agents) can reach
 * only when that setting is below 2^(depth + 1); this read has no such cap
 * (the caller chooses it for a whole population).  Memory: every agent's
 * id and node, about 120 bytes per agent (12.3 MB for 100,000).
 */
void
ecs_pedigree_load_all(EcsPedigree *ped)
{
	SPIPlanPtr	plan = ecs_plan(ECS_PLAN_ALL_LINKS, all_links_sql, 0, NULL);

	ped->acyclic = -1;
	ecs_spi_each_row(plan, 0, NULL, NULL, load_all_row, ped);
}

/*
 * BFS over loaded nodes from start up to depth; marks seen[] with the
 * current stamp.  Returns the number of nodes queued in ped->queue (with
 * their depth in ped->qdepth).  When with_parents, parents of nodes at the
 * last depth are appended too (loaded or not): the S-set.
 */
static int
bfs_up(EcsPedigree *ped, int start, int32 *seen, bool with_parents)
{
	int			head = 0,
				tail = 0;

	seen[start] = ped->stamp;
	ped->queue[tail] = start;
	ped->qdepth[tail++] = 0;
	while (head < tail)
	{
		int			x = ped->queue[head];
		int			dx = ped->qdepth[head++];
		int			par[2];
		int			j;

		CHECK_FOR_INTERRUPTS();
		if (!ped->nodes[x].loaded)
			continue;
		if (dx >= ped->depth && !with_parents)
			continue;
		if (dx > ped->depth)
			continue;
		par[0] = ped->nodes[x].p1;
		par[1] = ped->nodes[x].p2;
		for (j = 0; j < 2; j++)
		{
			int			p = par[j];

			if (p < 0 || seen[p] == ped->stamp)
				continue;
			/* its node is read when dequeued: start the miss now */
			__builtin_prefetch(&ped->nodes[p]);
			seen[p] = ped->stamp;
			ped->queue[tail] = p;
			ped->qdepth[tail++] = dx + 1;
		}
	}
	return tail;
}

/*
 * ecs_topo_order
 *		Kahn's algorithm over n nodes whose parents are p1[i], p2[i] (-1 when
 *		none): ord[i] = position of node i in an order with parents first.
 *		Returns how many nodes were placed (n unless there is a cycle); then
 *		pending[i] > 0 marks the nodes on or below a cycle.  pending is
 *		palloc'd in the current context and returned through *pending_out.
 */
int
ecs_topo_order(int n, const int32 *p1, const int32 *p2, int32 *ord, int32 **pending_out)
{
	int32	   *nkids = palloc0(sizeof(int32) * Max(n, 1));
	int32	   *pending = palloc0(sizeof(int32) * Max(n, 1));
	int32	   *start = palloc(sizeof(int32) * (n + 1));
	int32	   *kids;
	int32	   *queue = palloc(sizeof(int32) * Max(n, 1));
	int			head = 0,
				tail = 0,
				i;

	for (i = 0; i < n; i++)
	{
		if (p1[i] >= 0)
		{
			nkids[p1[i]]++;
			pending[i]++;
		}
		if (p2[i] >= 0)
		{
			nkids[p2[i]]++;
			pending[i]++;
		}
	}
	start[0] = 0;
	for (i = 0; i < n; i++)
		start[i + 1] = start[i] + nkids[i];
	kids = palloc(sizeof(int32) * Max(start[n], 1));
	memset(nkids, 0, sizeof(int32) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		if (p1[i] >= 0)
			kids[start[p1[i]] + nkids[p1[i]]++] = i;
		if (p2[i] >= 0)
			kids[start[p2[i]] + nkids[p2[i]]++] = i;
	}
	for (i = 0; i < n; i++)
		if (pending[i] == 0)
			queue[tail++] = i;
	while (head < tail)
	{
		int			x = queue[head];
		int			j;

		CHECK_FOR_INTERRUPTS();
		ord[x] = head++;
		for (j = start[x]; j < start[x + 1]; j++)
			if (--pending[kids[j]] == 0)
				queue[tail++] = kids[j];
	}
	pfree(nkids);
	pfree(start);
	pfree(kids);
	pfree(queue);
	*pending_out = pending;
	return tail;
}

/*
 * Whether the loaded graph has no cycle (once per load).
 */
static bool
graph_is_acyclic(EcsPedigree *ped)
{
	int			n = ped->n;
	int32	   *p1,
			   *p2,
			   *ord,
			   *pending;
	int			i;

	if (ped->acyclic >= 0)
		return ped->acyclic == 1;
	p1 = palloc(sizeof(int32) * Max(n, 1));
	p2 = palloc(sizeof(int32) * Max(n, 1));
	ord = palloc(sizeof(int32) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		PedNode    *nd = &ped->nodes[i];

		p1[i] = (nd->loaded && nd->p1 >= 0 && ped->nodes[nd->p1].loaded) ? nd->p1 : -1;
		p2[i] = (nd->loaded && nd->p2 >= 0 && ped->nodes[nd->p2].loaded) ? nd->p2 : -1;
	}
	ped->acyclic = (ecs_topo_order(n, p1, p2, ord, &pending) == n) ? 1 : 0;
	pfree(p1);
	pfree(p2);
	pfree(ord);
	pfree(pending);
	return ped->acyclic == 1;
}

static void
compute_sig(EcsPedigree *ped, int x)
{
	int			n;
	PedNode    *nd;

	ped->stamp++;
	n = bfs_up(ped, x, ped->seen_a, true);
	nd = &ped->nodes[x];
	nd->sig = MemoryContextAlloc(ped->cxt, sizeof(int32) * n);
	memcpy(nd->sig, ped->queue, sizeof(int32) * n);
	nd->nsig = n;

	/*
	 * A cycle among x's own members must be reported even for pairs the
	 * filter clears (a cycle mixing both sides always meets the filter).
	 * When the whole loaded graph is acyclic, there is nothing to look for.
	 */
	if (!graph_is_acyclic(ped))
	{
		MemoryContext scratch = AllocSetContextCreate(CurrentMemoryContext, "ecs cycle check",
													  ALLOCSET_SMALL_SIZES);
		MemoryContext oldcxt = MemoryContextSwitchTo(scratch);
		int32	   *member = palloc(sizeof(int32) * n);
		int			m = 0,
					i;
		KinCtx		k;

		for (i = 0; i < n; i++)
			if (ped->qdepth[i] <= ped->depth && ped->nodes[nd->sig[i]].loaded)
				member[m++] = nd->sig[i];
		sub_pedigree(ped, member, m, &k, nd->id, NULL);
		MemoryContextSwitchTo(oldcxt);
		MemoryContextDelete(scratch);
	}
}

/*
 * ecs_pedigree_may_relate
 *		False only when phi(a, b) is certainly 0 (disjoint S-sets).  The
 *		S-set of a stays marked for the next call with the same a (a search
 *		tests one agent against many candidates).
 */
bool
ecs_pedigree_may_relate(EcsPedigree *ped, int a, int b)
{
	PedNode    *na,
			   *nb;
	int			i;

	if (a == b)
		return true;
	if (ped->nodes[a].nsig < 0)
		compute_sig(ped, a);
	if (ped->nodes[b].nsig < 0)
		compute_sig(ped, b);
	na = &ped->nodes[a];
	nb = &ped->nodes[b];
	if (ped->marked != a)
	{
		if (ped->mark_stamp == PG_INT32_MAX)
		{
			memset(ped->mark, 0, sizeof(int32) * ped->cap);
			ped->mark_stamp = 0;
		}
		ped->mark_stamp++;
		for (i = 0; i < na->nsig; i++)
			ped->mark[na->sig[i]] = ped->mark_stamp;
		ped->marked = a;
	}
	for (i = 0; i < nb->nsig; i++)
		if (ped->mark[nb->sig[i]] == ped->mark_stamp)
			return true;
	return false;
}

static double
memo_get(KinCtx *k, int x, int y, bool *found)
{
	uint64		key = ((uint64) (uint32) x << 32) | (uint32) y;
	MemoEntry  *e = hash_search(k->memo, &key, HASH_FIND, NULL);

	*found = (e != NULL);
	return e ? e->value : 0.0;
}

static void
memo_put(KinCtx *k, int x, int y, double v)
{
	uint64		key = ((uint64) (uint32) x << 32) | (uint32) y;
	MemoEntry  *e;

	if (hash_get_num_entries(k->memo) >= ECS_KINSHIP_MAX_MEMO)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("kinship computation is too large"),
				 errdetail("The sub-pedigree has %d agents.", k->m),
				 errhint("Lower ecs_agents.kinship_depth.")));
	e = hash_search(k->memo, &key, HASH_ENTER, NULL);
	e->value = v;
}

/* phi over members x, y (or -1 = unknown) */
static double
phi(KinCtx *k, int x, int y)
{
	double		v;
	bool		found;

	if (x < 0 || y < 0)
		return 0.0;
	if (x != y && k->ord[x] > k->ord[y])
	{
		int			t = x;

		x = y;
		y = t;
	}
	/* now y is x or later in the order: y is not an ancestor of x */
	v = memo_get(k, x, y, &found);
	if (found)
		return v;
	check_stack_depth();
	if ((++k->computed & 1023) == 0)
		CHECK_FOR_INTERRUPTS();
	if (x == y)
		v = 0.5 * (1.0 + phi(k, k->p1[x], k->p2[x]));
	else
		v = 0.5 * (phi(k, x, k->p1[y]) + phi(k, x, k->p2[y]));
	memo_put(k, x, y, v);
	return v;
}

/*
 * sub_pedigree
 *		Fill k (p1, p2, ord) for the members member[0..m-1]: parent links
 *		between loaded members, and a topological order, parents first
 *		(ecs_topo_order).  A cycle raises 22000 naming the pair and agents on or below
 *		the cycle.  Allocates in the current context.
 */
static void
sub_pedigree(EcsPedigree *ped, int32 *member, int m, KinCtx *k,
			 const char *who_a, const char *who_b)
{
	int32	   *pending;
	int			placed,
				i;

	ped->stamp++;
	for (i = 0; i < m; i++)
	{
		ped->local[member[i]] = i;
		ped->seen_a[member[i]] = ped->stamp;
	}
	k->m = m;
	k->node = member;
	k->p1 = palloc(sizeof(int32) * Max(m, 1));
	k->p2 = palloc(sizeof(int32) * Max(m, 1));
	k->ord = palloc(sizeof(int32) * Max(m, 1));
	k->computed = 0;
	for (i = 0; i < m; i++)
	{
		PedNode    *nd = &ped->nodes[member[i]];

		k->p1[i] = (nd->p1 >= 0 && ped->seen_a[nd->p1] == ped->stamp) ? ped->local[nd->p1] : -1;
		k->p2[i] = (nd->p2 >= 0 && ped->seen_a[nd->p2] == ped->stamp) ? ped->local[nd->p2] : -1;
	}

	placed = ecs_topo_order(m, k->p1, k->p2, k->ord, &pending);
	if (placed < m)
	{
		StringInfoData buf;
		int			shown = 0;

		initStringInfo(&buf);
		for (i = 0; i < m && shown < 10; i++)
			if (pending[i] > 0)
			{
				appendStringInfo(&buf, "%s\"%s\"", shown ? ", " : "", ped->nodes[member[i]].id);
				shown++;
			}
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 who_b ?
				 errmsg("pedigree of agents \"%s\" and \"%s\" contains a cycle", who_a, who_b) :
				 errmsg("pedigree of agent \"%s\" contains a cycle", who_a),
				 errdetail("Agents on or below the cycle: %s.", buf.data),
				 errhint("Fix parent1_id / parent2_id of these agents; writes check for cycles, so this data was loaded with triggers disabled or by concurrent re-parenting.")));
	}
}

/*
 * kinship_tabular
 *		phi(x, y) of members x, y by the tabular method: every phi among the
 *		m members, in topological order (parents first), kept as the lower
 *		triangle T[i][j], j <= i, of positions in that order:
 *
 *			T[i][i] = 1/2 (1 + T[p1(i)][p2(i)])
 *			T[i][j] = 1/2 (T[j][p1(i)] + T[j][p2(i)])		j < i
 *
 *		with 0 for an unknown parent.  It is the memoised recursion of phi()
 *		evaluated for every pair, with the same operations in the same
 *		order, so the values are bit-identical; O(m^2) time, m(m+1)/2
 *		doubles in the current context, and no per-entry lookups.
 */
#define TRI(i, j)	((Size) (i) * ((i) + 1) / 2 + (j))

static double
kinship_tabular(KinCtx *k, int x, int y)
{
	int			m = k->m;
	int32	   *pp1 = palloc(sizeof(int32) * Max(m, 1));
	int32	   *pp2 = palloc(sizeof(int32) * Max(m, 1));
	double	   *t = palloc(sizeof(double) * TRI(m, 0));
	int			i,
				j,
				px,
				py;

	/* parents as positions in the order */
	for (i = 0; i < m; i++)
	{
		int			pos = k->ord[i];

		pp1[pos] = k->p1[i] >= 0 ? k->ord[k->p1[i]] : -1;
		pp2[pos] = k->p2[i] >= 0 ? k->ord[k->p2[i]] : -1;
	}
	for (i = 0; i < m; i++)
	{
		int			a = pp1[i],
					b = pp2[i];
		double	   *row = t + TRI(i, 0);

		if ((i & 63) == 0)
			CHECK_FOR_INTERRUPTS();
		for (j = 0; j < i; j++)
		{
			double		s = 0.0;

			/* a, b < i: the order puts parents first */
			if (a >= 0)
				s += t[a >= j ? TRI(a, j) : TRI(j, a)];
			if (b >= 0)
				s += t[b >= j ? TRI(b, j) : TRI(j, b)];
			row[j] = 0.5 * s;
		}
		row[i] = 0.5 * (1.0 + ((a >= 0 && b >= 0) ? t[a >= b ? TRI(a, b) : TRI(b, a)] : 0.0));
	}
	px = k->ord[x];
	py = k->ord[y];
	return t[px >= py ? TRI(px, py) : TRI(py, px)];
}

/*
 * ecs_pedigree_kinship
 *		phi(a, b) over the sub-pedigree of (a, b); both loaded nodes.
 *		22000 when the sub-pedigree holds a cycle.
 */
double
ecs_pedigree_kinship(EcsPedigree *ped, int a, int b)
{
	MemoryContext scratch = AllocSetContextCreate(CurrentMemoryContext, "ecs kinship",
												  ALLOCSET_DEFAULT_SIZES);
	MemoryContext oldcxt = MemoryContextSwitchTo(scratch);
	KinCtx		k;
	int			na,
				nb,
				i,
				m = 0;
	int32	   *member;
	double		result;

	if (!ped->nodes[a].loaded || !ped->nodes[b].loaded)
		elog(ERROR, "kinship of an agent that was not loaded");

	/* members: loaded agents within depth of a, or of b */
	ped->stamp++;
	na = bfs_up(ped, a, ped->seen_a, false);
	member = palloc(sizeof(int32) * (Size) (na + ped->n));
	for (i = 0; i < na; i++)
		if (ped->nodes[ped->queue[i]].loaded)
			member[m++] = ped->queue[i];
	nb = bfs_up(ped, b, ped->seen_b, false);
	for (i = 0; i < nb; i++)
	{
		int			x = ped->queue[i];

		if (ped->nodes[x].loaded && ped->seen_a[x] != ped->stamp)
			member[m++] = x;
	}
	sub_pedigree(ped, member, m, &k, ped->nodes[a].id, ped->nodes[b].id);

	if (m <= ECS_KINSHIP_TABULAR)
		result = kinship_tabular(&k, ped->local[a], ped->local[b]);
	else
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(uint64);
		ctl.entrysize = sizeof(MemoEntry);
		ctl.hcxt = scratch;
		k.memo = hash_create("ecs kinship memo", 4096, &ctl,
							 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		result = phi(&k, ped->local[a], ped->local[b]);
	}

	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(scratch);
	return result;
}

/*
 * ecs_relatedness_value
 *		r(a, b) = 2 phi(a, b), 0 without computing when the filter says so.
 */
double
ecs_relatedness_value(EcsPedigree *ped, int a, int b)
{
	if (!ecs_pedigree_may_relate(ped, a, b))
		return 0.0;
	return 2.0 * ecs_pedigree_kinship(ped, a, b);
}

/*
 * ecs_final_score
 *		trait_score * max(0, 1 - kinship_penalty * r)
 */
double
ecs_final_score(double trait_score, double relatedness)
{
	double		f = 1.0 - ecs_kinship_penalty * relatedness;

	return trait_score * (f > 0.0 ? f : 0.0);
}

/*
 * Load the pair's pedigree and return phi(a, b).  P0002 when either agent
 * is unknown or hidden.  Connected to SPI.
 */
static double
kinship_of(char *a, char *b)
{
	EcsPedigree *ped = ecs_pedigree_create(CurrentMemoryContext, ecs_kinship_depth);
	char	   *ids[2];
	int			ia,
				ib;

	ids[0] = a;
	ids[1] = b;
	ecs_pedigree_load(ped, ids, 2);
	ia = ecs_pedigree_find(ped, a);
	if (ia < 0)
		ecs_report_unknown_agent(a);
	ib = ecs_pedigree_find(ped, b);
	if (ib < 0)
		ecs_report_unknown_agent(b);

	/*
	 * One pair: on an acyclic graph the S-set filter would cost about what
	 * the tabular method costs on the sub-pedigree of an unrelated pair, so
	 * compute directly.  With a cycle somewhere, the filter's per-agent
	 * check names the agent whose own pedigree holds it.
	 */
	if (!graph_is_acyclic(ped) && !ecs_pedigree_may_relate(ped, ia, ib))
		return 0.0;
	return ecs_pedigree_kinship(ped, ia, ib);
}

/* phi of the call's two text arguments (a, b), validated */
static double
kinship_of_args(FunctionCallInfo fcinfo)
{
	char	   *a = ecs_agent_id_check(PG_GETARG_TEXT_PP(0), "a");
	char	   *b = ecs_agent_id_check(PG_GETARG_TEXT_PP(1), "b");
	double		v;

	SPI_connect();
	v = kinship_of(a, b);
	SPI_finish();
	return v;
}

PG_FUNCTION_INFO_V1(ecs_kinship);
PG_FUNCTION_INFO_V1(ecs_relatedness);
PG_FUNCTION_INFO_V1(ecs_inbreeding);

/*
 * ecs_kinship(a text, b text) float8 -- phi(a, b).  STRICT STABLE.
 * 22023 bad id, P0002 unknown agent, 22000 cycle, 54000 too large.
 */
Datum
ecs_kinship(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(kinship_of_args(fcinfo));
}

/*
 * ecs_relatedness(a text, b text) float8 -- 2 phi(a, b).  For a = b this
 * is 1 + F(a).  STRICT STABLE; errors as ecs_kinship.
 */
Datum
ecs_relatedness(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(2.0 * kinship_of_args(fcinfo));
}

/*
 * ecs_inbreeding(x text) float8 -- F(x) = phi(p1(x), p2(x)), computed as
 * ecs_kinship of the two parents; 0 when a parent is NULL or hidden.
 */
Datum
ecs_inbreeding(PG_FUNCTION_ARGS)
{
	char	   *x = ecs_agent_id_check(PG_GETARG_TEXT_PP(0), "x");
	EcsPedigree *ped;
	int			ix;
	int			p1,
				p2;
	double		v = 0.0;

	SPI_connect();
	ped = ecs_pedigree_create(CurrentMemoryContext, ecs_kinship_depth + 1);
	ecs_pedigree_load(ped, &x, 1);
	ix = ecs_pedigree_find(ped, x);
	if (ix < 0)
		ecs_report_unknown_agent(x);
	p1 = ped->nodes[ix].p1;
	p2 = ped->nodes[ix].p2;
	if (p1 >= 0 && p2 >= 0 && ped->nodes[p1].loaded && ped->nodes[p2].loaded)
	{
		char	   *a = pstrdup(ped->nodes[p1].id);
		char	   *b = pstrdup(ped->nodes[p2].id);

		v = kinship_of(a, b);
	}
	SPI_finish();
	PG_RETURN_FLOAT8(v);
}
