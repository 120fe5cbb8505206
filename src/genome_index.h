/*-------------------------------------------------------------------------
 *
 * genome_index.h
 *		The ecs_genome index access method: compact codes of genomes for
 *		exact filter-and-refine mate search (ORDER BY genome <~> query).
 *
 * A mate query is a float8[] of 2n values: n targets, then n weights.
 * Its distance to a genome b of n values is
 *
 *		d(b, q) = sum_t w_t |target_t - b_t| / sum_t w_t
 *
 * computed by ecs_weighted_l1() exactly as the trait score does, so that
 * trait_score = 1 - d holds bit for bit on every path.
 *
 * Codes: the first ECS_GI_CODES values of a genome, each quantised to a
 * byte, c = round(255 v).  For values in [0,1] every per-trait term then
 * has the lower bound (|tq - c| - 1) / 255 with tq the quantised target
 * (both roundings are within 1/510), and weights are rounded down to
 * 6-bit integers, so the sum over the coded traits is a lower bound of the
 * distance (docs/ALGORITHMS.md, "Genome index").  Entries whose values are
 * not all in [0,1], or that have fewer values than codes, carry no usable
 * code and get the bound 0.
 *
 * Page layout (every page but the metapage): after the page header, the
 * codes of ECS_GI_SLOTS slots ([slot][ECS_GI_CODES] bytes, contiguous so
 * that the scan streams only them), then their heap TIDs, then one state
 * byte per slot; the special space holds the counters.  Slots are never
 * moved: VACUUM frees a slot in place and a later insert reuses it.
 *
 * IDENTIFICATION
 *		src/genome_index.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ECS_GENOME_INDEX_H
#define ECS_GENOME_INDEX_H

#include "access/amapi.h"
#include "access/generic_xlog.h"
#include "storage/bufpage.h"
#include "storage/itemptr.h"
#include "utils/array.h"

#define ECS_GI_CODES		16		/* traits coded per entry */
#define ECS_GI_MAGIC		0x45474931	/* "EGI1" */
#define ECS_GI_PAGE_ID		0xEC61
#define ECS_GI_METAPAGE_BLKNO	0
#define ECS_GI_FREE_MAX		1024	/* pages with free slots the metapage lists */

/*
 * Slot state byte: the state in its low two bits, the entry's class above
 * them.  A free slot's byte is 0.
 */
#define ECS_GI_SLOT_FREE	0
#define ECS_GI_SLOT_NOCODE	1		/* live, bound 0 (no usable code) */
#define ECS_GI_SLOT_CODED	2		/* live, ECS_GI_CODES codes */
#define ECS_GI_STATE(b)		((b) & 0x03)
#define ECS_GI_CLASS(b)		((b) >> 2)

/*
 * Classes of the optional second key column (text, normally ecs.agents.sex):
 * exactly 'female', exactly 'male', anything else (NULL, other values, an
 * index without the column).  A scan key "column <!> s" (true when either
 * side is NULL or they differ) skips the whole class whose value is s, so
 * a mate search of one sex scans only the other's codes (and the others).
 */
#define ECS_GI_CLASS_OTHER	0
#define ECS_GI_CLASS_FEMALE	1
#define ECS_GI_CLASS_MALE	2
#define ECS_GI_NCLASSES		3
/* the class of a slot's byte; a corrupt class counts as other (never skipped) */
#define ECS_GI_SLOT_CLASS(b) \
	(ECS_GI_CLASS(b) < ECS_GI_NCLASSES ? ECS_GI_CLASS(b) : ECS_GI_CLASS_OTHER)

typedef struct EcsGiPageOpaque
{
	uint16		nused;			/* slots 0..nused-1 have been used */
	uint16		nlive;			/* live slots among them */
	uint16		nnocode;		/* live slots without codes */
	uint16		page_id;		/* ECS_GI_PAGE_ID */
} EcsGiPageOpaque;

#define ECS_GI_CONTENT_SIZE \
	(BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(EcsGiPageOpaque)))
#define ECS_GI_SLOTS \
	((int) (ECS_GI_CONTENT_SIZE / (ECS_GI_CODES + sizeof(ItemPointerData) + 1)))

#define EcsGiOpaque(page)	((EcsGiPageOpaque *) PageGetSpecialPointer(page))
#define EcsGiCodes(page)	((uint8 *) PageGetContents(page))
#define EcsGiTids(page) \
	((ItemPointerData *) (EcsGiCodes(page) + ECS_GI_SLOTS * ECS_GI_CODES))
#define EcsGiStates(page) \
	((uint8 *) (EcsGiTids(page) + ECS_GI_SLOTS))
/* every slot is live and coded: the scan needs no per-slot test */
#define EcsGiPageRegular(o)	((o)->nlive == (o)->nused && (o)->nnocode == 0)

typedef struct EcsGiMetaData
{
	uint32		magic;
	uint32		version;
	uint32		ncodes;			/* ECS_GI_CODES at build */
	BlockNumber last_blk;		/* page new entries go to, InvalidBlockNumber if none */
	uint32		nfree;			/* pages listed in free[] */
	uint64		changes;		/* bumped by every insert and VACUUM (scan caches) */
	BlockNumber free[ECS_GI_FREE_MAX];	/* pages VACUUM left with free slots */
} EcsGiMetaData;

#define EcsGiMeta(page)		((EcsGiMetaData *) PageGetContents(page))

/* a parsed mate query: targets and weights as doubles, plus its codes */
typedef struct EcsGenomeQuery
{
	int			n;				/* traits */
	double	   *target;			/* [n] */
	double	   *weight;			/* [n] */
	double		wsum;
	uint8		tq[ECS_GI_CODES];	/* quantised clamped targets */
	int8		wq[ECS_GI_CODES];	/* weights rounded down to 0..63 */
	double		bound_scale;	/* lower bound = integer sum * bound_scale */
} EcsGenomeQuery;

/* the fast scan's codes (genome_code.c): 4 bits a trait, 32 entries a block */
#define ECS_GI_FAST_ROWS	32
#define ECS_GI_FAST_BYTES	(ECS_GI_CODES / 2 * ECS_GI_FAST_ROWS)
#define ECS_GI_FAST_BLOCKS(n)	(((n) + ECS_GI_FAST_ROWS - 1) / ECS_GI_FAST_ROWS)

/* a query's fast-scan tables; scale 0 until built */
typedef struct EcsGenomeFastLut
{
	uint32		scale;
	uint8		lut[ECS_GI_CODES][16];
} EcsGenomeFastLut;

/* genome_code.c */
extern void ecs_genome_query_parse(ArrayType *q, EcsGenomeQuery *out);
extern void ecs_genome_query_codes(EcsGenomeQuery *q);
extern int	ecs_genome_encode(Datum genome, bool isnull, uint8 *codes);
extern bool ecs_genome_encode_values(const float4 *v, int n, uint8 *codes);
extern int	ecs_genome_bounds_below(const EcsGenomeQuery *q, const uint8 *codes,
									int n, uint32 cut, uint32 *out, uint16 *idx);
extern void ecs_genome_fast_pack(const uint8 *codes, int n, uint8 *out);
extern int	ecs_genome_fast_below(const EcsGenomeQuery *q, EcsGenomeFastLut *lut,
								  const uint8 *fast, const uint8 *codes, int n, uint32 cut,
								  uint32 *out, uint16 *idx);

/* genome_index.c */
extern int	ecs_gi_text_class(Datum value, bool isnull);
extern int	ecs_gi_check_shape(Relation index);
extern int	ecs_gi_entry(Relation index, Datum *values, bool *isnull, uint8 *codes);
extern void ecs_gi_init_page(Page page);
extern void ecs_gi_check_page(Relation index, Page page, BlockNumber blk);
extern Buffer ecs_gi_read_data_page(Relation index, BlockNumber blk);
extern void ecs_gi_fill_metapage(Page page);

/* genome_index_build.c */
extern IndexBuildResult *ecs_gi_build(Relation heap, Relation index, IndexInfo *info);
extern void ecs_gi_buildempty(Relation index);
extern bool ecs_gi_insert(Relation index, Datum *values, bool *isnull,
						  ItemPointer ht_ctid, Relation heapRel,
						  IndexUniqueCheck checkUnique, bool indexUnchanged,
						  IndexInfo *indexInfo);

/* genome_index_scan.c */
extern IndexScanDesc ecs_gi_beginscan(Relation r, int nkeys, int norderbys);
extern void ecs_gi_rescan(IndexScanDesc scan, ScanKey keys, int nkeys,
						  ScanKey orderbys, int norderbys);
extern bool ecs_gi_gettuple(IndexScanDesc scan, ScanDirection dir);
extern void ecs_gi_endscan(IndexScanDesc scan);

/* genome_index_vacuum.c */
extern IndexBulkDeleteResult *ecs_gi_bulkdelete(IndexVacuumInfo *info,
												IndexBulkDeleteResult *stats,
												IndexBulkDeleteCallback callback,
												void *callback_state);
extern IndexBulkDeleteResult *ecs_gi_vacuumcleanup(IndexVacuumInfo *info,
												   IndexBulkDeleteResult *stats);

#endif							/* ECS_GENOME_INDEX_H */
