/*-------------------------------------------------------------------------
 *
 * genome_code.c
 *		Mate queries, genome codes and their distance lower bounds: the
 *		filter half of the genome index's filter-and-refine (genome_index.h
 *		has the derivation).  Pure: no I/O.
 *
 * The bound of one entry is an integer
 *
 *		S = sum_t wq_t * max(0, |tq_t - c_t| - 1)		(t < ECS_GI_CODES)
 *
 * with wq_t <= 63 and |tq - c| <= 255, so every pair of terms fits a signed
 * 16-bit lane (2 * 63 * 254 < 32767) and the sum fits 32 bits: the AVX2
 * kernel computes it for two entries per register with maddubs/madd.  The
 * scalar kernel computes the same integers; the setting
 * ecs_agents.genome_index_simd chooses between them (tests run both).
 *
 * IDENTIFICATION
 *		src/genome_code.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define ECS_HAVE_AVX2_KERNEL 1
#endif

#include "catalog/pg_type.h"
#include "ecs_agents.h"
#include "fmgr.h"
#include "genome_index.h"
#include "miscadmin.h"

/*
 * ecs_genome_query_parse
 *		Check and parse a mate query (2n float8 values: n targets, then n
 *		weights) into out; out->target and out->weight point into q, which
 *		must outlive out.  22023 unless q is a one-dimensional float8 array
 *		without NULLs of even length 2..2*ECS_MAX_TRAITS, with finite
 *		targets and finite non-negative weights of positive sum.
 */
void
ecs_genome_query_parse(ArrayType *q, EcsGenomeQuery *out)
{
	int			len,
				n,
				t;
	double	   *v;

	if (ARR_ELEMTYPE(q) != FLOAT8OID || ARR_NDIM(q) != 1 ||
		(ARR_HASNULL(q) && array_contains_nulls(q)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a mate query must be a one-dimensional float8 array without NULLs")));
	len = ARR_DIMS(q)[0];
	if (len < 2 || len % 2 != 0 || len / 2 > ECS_MAX_TRAITS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a mate query of %d values is invalid", len),
				 errdetail("A mate query holds n targets then n weights, 1 <= n <= %d.",
						   ECS_MAX_TRAITS),
				 errhint("Build it with ecs_genome_query(target, weights) or ecs_mate_query(agent_id).")));
	n = len / 2;
	v = (double *) ARR_DATA_PTR(q);
	out->n = n;
	out->target = v;
	out->weight = v + n;
	out->wsum = 0.0;
	for (t = 0; t < n; t++)
	{
		if (!isfinite(v[t]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("mate query target %d is not finite", t + 1)));
		if (!isfinite(v[n + t]) || v[n + t] < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("mate query weight %d is %g", t + 1, v[n + t]),
					 errdetail("Weights must be finite and at least 0.")));
		out->wsum += v[n + t];
	}
	if (!(out->wsum > 0.0) || isinf(out->wsum))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("weights must sum to a positive finite number")));

	ecs_genome_query_codes(out);
}

/*
 * ecs_genome_query_codes
 *		The codes of a parsed query (n, target, weight, wsum set): clamped
 *		quantised targets, weights rounded down to 6 bits, bound scale.
 */
void
ecs_genome_query_codes(EcsGenomeQuery *q)
{
	double		wmax = 0.0,
				s;
	int			t;

	for (t = 0; t < ECS_GI_CODES && t < q->n; t++)
		wmax = Max(wmax, q->weight[t]);
	s = wmax > 0.0 ? 63.0 / wmax : 0.0;
	for (t = 0; t < ECS_GI_CODES; t++)
	{
		if (t < q->n)
		{
			double		c = Min(Max(q->target[t], 0.0), 1.0);
			double		w = floor(q->weight[t] * s);

			q->tq[t] = (uint8) rint(c * 255.0);
			q->wq[t] = (int8) Min(Max(w, 0.0), 63.0);
		}
		else
		{
			q->tq[t] = 0;
			q->wq[t] = 0;
		}
	}

	/*
	 * bound = S / (255 s) / wsum, shrunk by a relative 1e-9 that covers
	 * every rounding of this computation and of the exact distance.
	 */
	q->bound_scale = s > 0.0 ? (1.0 / (255.0 * s)) / q->wsum * (1.0 - 1e-9) : 0.0;
}

/*
 * ecs_genome_encode
 *		Codes of an indexed genome value (a real[], or NULL when isnull)
 *		into codes[ECS_GI_CODES]: ECS_GI_SLOT_CODED, or ECS_GI_SLOT_NOCODE
 *		(codes zeroed) for NULL, for anything but a one-dimensional real[]
 *		without NULLs, and when one of its first ECS_GI_CODES values is
 *		outside [0,1].  Shorter genomes are padded with 0: a query scores
 *		them only when it has as many traits, and then its weights past
 *		them are 0.
 */
int
ecs_genome_encode(Datum genome, bool isnull, uint8 *codes)
{
	ArrayType  *arr;

	memset(codes, 0, ECS_GI_CODES);
	if (isnull)
		return ECS_GI_SLOT_NOCODE;
	arr = DatumGetArrayTypeP(genome);
	if (ARR_ELEMTYPE(arr) != FLOAT4OID || ARR_NDIM(arr) != 1 ||
		(ARR_HASNULL(arr) && array_contains_nulls(arr)))
		return ECS_GI_SLOT_NOCODE;
	return ecs_genome_encode_values((float4 *) ARR_DATA_PTR(arr), ARR_DIMS(arr)[0], codes) ?
		ECS_GI_SLOT_CODED : ECS_GI_SLOT_NOCODE;
}

/*
 * ecs_genome_encode_values
 *		Codes of n genome values (as ecs_genome_encode): false, codes
 *		zeroed, when one of the first ECS_GI_CODES is outside [0,1].
 */
bool
ecs_genome_encode_values(const float4 *v, int n, uint8 *codes)
{
	int			t;

	memset(codes, 0, ECS_GI_CODES);
	for (t = 0; t < n && t < ECS_GI_CODES; t++)
	{
		double		x = (double) v[t];

		if (!(x >= 0.0 && x <= 1.0))
		{
			memset(codes, 0, ECS_GI_CODES);
			return false;
		}
		codes[t] = (uint8) rint(x * 255.0);
	}
	return true;
}

#ifdef ECS_HAVE_AVX2_KERNEL
static bool
cpu_has_avx2(void)
{
	static int	have_avx2 = -1;

	if (have_avx2 < 0)
		have_avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
	return have_avx2 == 1;
}
#endif

static int
cmp_uint32(const void *a, const void *b)
{
	uint32		x = *(const uint32 *) a;
	uint32		y = *(const uint32 *) b;

	return (x > y) - (x < y);
}

/* one entry, scalar */
static uint32
bound_one(const EcsGenomeQuery *q, const uint8 *codes)
{
	uint32		sum = 0;
	int			t;

	for (t = 0; t < ECS_GI_CODES; t++)
	{
		int			d = (int) q->tq[t] - (int) codes[t];

		d = d < 0 ? -d : d;
		if (d > 1)
			sum += (uint32) q->wq[t] * (uint32) (d - 1);
	}
	return sum;
}

/*
 * Entries of codes[n] whose bound is at most cut: their slot numbers in
 * idx[] and bounds in out[] (both with room for n); returns how many.
 */
static int
below_scalar(const EcsGenomeQuery *q, const uint8 *codes, int n, uint32 cut,
			 uint32 *out, uint16 *idx)
{
	int			i,
				m = 0;

	for (i = 0; i < n; i++)
	{
		uint32		b = bound_one(q, codes + (Size) i * ECS_GI_CODES);

		if (b <= cut)
		{
			out[m] = b;
			idx[m++] = (uint16) i;
		}
	}
	return m;
}

#ifdef ECS_HAVE_AVX2_KERNEL
/*
 * The bounds of eight entries, in order: rows[0..8) point at their codes.
 * Two entries of 16 codes per register.
 */
__attribute__((target("avx2")))
static inline __m256i
bounds8_avx2(const EcsGenomeQuery *q, const uint8 *const *rows)
{
	__m256i		tq = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *) q->tq));
	__m256i		wq = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *) q->wq));
	__m256i		one8 = _mm256_set1_epi8(1);
	__m256i		one16 = _mm256_set1_epi16(1);
	__m256i		order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
	__m256i		s[4];
	int			j;

	for (j = 0; j < 4; j++)
	{
		__m256i		c = _mm256_loadu2_m128i((const __m128i *) rows[2 * j + 1],
											(const __m128i *) rows[2 * j]);
		__m256i		d = _mm256_sub_epi8(_mm256_max_epu8(c, tq), _mm256_min_epu8(c, tq));

		d = _mm256_subs_epu8(d, one8);
		s[j] = _mm256_madd_epi16(_mm256_maddubs_epi16(d, wq), one16);
	}
	/* lane 0 holds entries 0, 2, ..; lane 1 entries 1, 3, .. */
	s[0] = _mm256_hadd_epi32(s[0], s[1]);
	s[2] = _mm256_hadd_epi32(s[2], s[3]);
	s[0] = _mm256_hadd_epi32(s[0], s[2]);
	return _mm256_permutevar8x32_epi32(s[0], order);
}

/* eight entries per turn */
__attribute__((target("avx2")))
static int
below_avx2(const EcsGenomeQuery *q, const uint8 *codes, int n, uint32 cut,
		   uint32 *out, uint16 *idx)
{
	/* bounds are below 2^31: a signed compare with cut clamped is exact */
	__m256i		cutv = _mm256_set1_epi32((int32) Min(cut, (uint32) PG_INT32_MAX));
	int			i = 0,
				m = 0;

	for (; i + 8 <= n; i += 8)
	{
		const uint8 *rows[8];
		__m256i		b8;
		uint32		bounds[8];
		unsigned int mask;
		int			j;

		for (j = 0; j < 8; j++)
			rows[j] = codes + (Size) (i + j) * ECS_GI_CODES;
		b8 = bounds8_avx2(q, rows);
		mask = ~(unsigned int) _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(b8, cutv))) & 0xFF;
		if (mask == 0)
			continue;
		if (mask == 0xFF)
		{
			/* all eight (every entry, for the first chunk of a scan) */
			_mm256_storeu_si256((__m256i *) (out + m), b8);
			for (j = 0; j < 8; j++)
				idx[m + j] = (uint16) (i + j);
			m += 8;
			continue;
		}
		_mm256_storeu_si256((__m256i *) bounds, b8);
		while (mask)
		{
			int			b = __builtin_ctz(mask);

			out[m] = bounds[b];
			idx[m++] = (uint16) (i + b);
			mask &= mask - 1;
		}
	}
	for (; i < n; i++)
	{
		uint32		b = bound_one(q, codes + (Size) i * ECS_GI_CODES);

		if (b <= cut)
		{
			out[m] = b;
			idx[m++] = (uint16) i;
		}
	}
	return m;
}
#endif

/*
 * The fast scan: 4-bit codes (the high half of each byte code) of 32
 * entries per block, transposed so that one 256-bit register holds one
 * trait of 32 entries for two traits, and a per-trait table of 16 bounds
 * looked up 32 entries at a time (pshufb).  Block layout, ECS_GI_FAST_BYTES
 * bytes: for traits 2p and 2p+1, 32 bytes at 32p; byte j of the first 16
 * holds entry j's nibble of trait 2p in its low half and entry j+16's in
 * its high half, the next 16 bytes the same for trait 2p+1.
 *
 * The table of trait t, for the 16 codes c of nibble h, holds
 *
 *		L_t(h) = min(255, floor(wq_t * min_c max(0, |tq_t - c| - 1) / scale))
 *
 * so that scale * sum_t L_t(h_t) <= S (the entry's integer bound): sums of
 * bytes saturate at 255, which only lowers them.  An entry whose table sum
 * exceeds T = floor(cut / scale) has S > cut and is skipped; the others
 * (a few thousand in a pass over a million genomes, most while the cutoff
 * is still loose) get their exact S from their byte codes, prefetched.
 * Half the bytes of the byte codes and less than half the instructions per
 * entry: a scan of a large index is bound by memory bandwidth, so bytes
 * count.  ecs_genome_kernel_check() tests both kernels against the scalar
 * one.
 */
void
ecs_genome_fast_pack(const uint8 *codes, int n, uint8 *out)
{
	int			i,
				t;

	memset(out, 0, (Size) ECS_GI_FAST_BLOCKS(n) * ECS_GI_FAST_BYTES);
	for (i = 0; i < n; i++)
	{
		uint8	   *blk = out + (Size) (i / ECS_GI_FAST_ROWS) * ECS_GI_FAST_BYTES;
		int			r = i % ECS_GI_FAST_ROWS;

		for (t = 0; t < ECS_GI_CODES; t++)
		{
			uint8		h = codes[(Size) i * ECS_GI_CODES + t] >> 4;
			uint8	   *b = blk + (t / 2) * 32 + (t % 2) * 16 + (r % 16);

			*b |= (r < 16) ? h : (uint8) (h << 4);
		}
	}
}

/* the tables for cut: T = cut / scale at most 200, and about 200 */
static void
fast_lut_build(const EcsGenomeQuery *q, EcsGenomeFastLut *lut, uint32 cut)
{
	int			t,
				h;

	lut->scale = Max((cut + 199) / 200, 1);	/* so that T <= 200 */
	for (t = 0; t < ECS_GI_CODES; t++)
		for (h = 0; h < 16; h++)
		{
			int			lo = 16 * h,
						hi = 16 * h + 15,
						d;
			uint32		v;

			d = q->tq[t] < lo ? lo - q->tq[t] : (q->tq[t] > hi ? q->tq[t] - hi : 0);
			d = d > 1 ? d - 1 : 0;
			v = (uint32) q->wq[t] * (uint32) d / lut->scale;
			lut->lut[t][h] = (uint8) Min(v, 255);
		}
}

#ifdef ECS_HAVE_AVX2_KERNEL
__attribute__((target("avx2")))
static int
fast_below_avx2(const EcsGenomeQuery *q, const EcsGenomeFastLut *lut, const uint8 *fast,
				const uint8 *codes, int n, uint32 cut, uint32 *out, uint16 *idx)
{
	__m256i		tab[ECS_GI_CODES / 2];
	__m256i		nib = _mm256_set1_epi8(0x0F);
	__m256i		tv;
	int			nblocks = ECS_GI_FAST_BLOCKS(n);
	int			b,
				p,
				j,
				nsurv = 0,
				m = 0;

	for (p = 0; p < ECS_GI_CODES / 2; p++)
		tab[p] = _mm256_loadu2_m128i((const __m128i *) lut->lut[2 * p + 1],
									 (const __m128i *) lut->lut[2 * p]);
	tv = _mm256_set1_epi8((char) (uint8) (cut / lut->scale));
	for (b = 0; b < nblocks; b++)
	{
		const uint8 *blk = fast + (Size) b * ECS_GI_FAST_BYTES;
		__m256i		lo = _mm256_setzero_si256();
		__m256i		hi = _mm256_setzero_si256();
		__m128i		slo,
					shi;
		uint32		mask;

#pragma GCC unroll 8
		for (p = 0; p < ECS_GI_CODES / 2; p++)
		{
			__m256i		x = _mm256_loadu_si256((const __m256i *) (blk + 32 * p));

			lo = _mm256_adds_epu8(lo, _mm256_shuffle_epi8(tab[p], _mm256_and_si256(x, nib)));
			hi = _mm256_adds_epu8(hi, _mm256_shuffle_epi8(tab[p],
														  _mm256_and_si256(_mm256_srli_epi16(x, 4), nib)));
		}
		/* even traits in lane 0, odd in lane 1: add the lanes */
		slo = _mm_adds_epu8(_mm256_castsi256_si128(lo), _mm256_extracti128_si256(lo, 1));
		shi = _mm_adds_epu8(_mm256_castsi256_si128(hi), _mm256_extracti128_si256(hi, 1));
		lo = _mm256_set_m128i(shi, slo);
		/* sum <= T: max(sum, T) == T */
		mask = (uint32) _mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_max_epu8(lo, tv), tv));
		if (b == nblocks - 1 && (n % ECS_GI_FAST_ROWS) != 0)
			mask &= ((uint32) 1 << (n % ECS_GI_FAST_ROWS)) - 1;
		while (mask)
		{
			int			i = b * ECS_GI_FAST_ROWS + __builtin_ctz(mask);

			mask &= mask - 1;
			_mm_prefetch((const char *) (codes + (Size) i * ECS_GI_CODES), _MM_HINT_T0);
			idx[nsurv++] = (uint16) i;
		}
	}

	/*
	 * The survivors' byte codes, read after the whole range was filtered:
	 * they are scattered, and the prefetches above overlap their misses.
	 */
	for (j = 0; j < nsurv; j += 8)
	{
		const uint8 *rows[8];
		uint32		bounds[8];
		uint16		slot[8];
		int			r,
					nr = Min(8, nsurv - j);

		/* (a short last group repeats its last entry) */
		for (r = 0; r < 8; r++)
		{
			slot[r] = idx[j + Min(r, nr - 1)];
			rows[r] = codes + (Size) slot[r] * ECS_GI_CODES;
		}
		_mm256_storeu_si256((__m256i *) bounds, bounds8_avx2(q, rows));
		for (r = 0; r < nr; r++)
			if (bounds[r] <= cut)
			{
				out[m] = bounds[r];
				idx[m++] = slot[r];
			}
	}
	return m;
}
#endif

/*
 * ecs_genome_fast_below
 *		ecs_genome_bounds_below() for entries that also have their fast
 *		codes (ecs_genome_fast_pack of the same n entries): the same entries
 *		and bounds, sooner.  lut holds the query's tables, built here and
 *		rebuilt when cut has moved far from the scale they were built for
 *		(zero its scale for a new query).  Without AVX2, with the setting
 *		off, or when cut lets every entry through, the plain kernel runs.
 */
int
ecs_genome_fast_below(const EcsGenomeQuery *q, EcsGenomeFastLut *lut, const uint8 *fast,
					  const uint8 *codes, int n, uint32 cut, uint32 *out, uint16 *idx)
{
#ifdef ECS_HAVE_AVX2_KERNEL
	if (ecs_genome_index_simd && cut < 63 * 254 * ECS_GI_CODES && cpu_has_avx2())
	{
		if (lut->scale == 0 || cut / lut->scale > 254 ||
			(cut / lut->scale < 100 && lut->scale > 1))
			fast_lut_build(q, lut, cut);
		return fast_below_avx2(q, lut, fast, codes, n, cut, out, idx);
	}
#endif
	return ecs_genome_bounds_below(q, codes, n, cut, out, idx);
}

/*
 * ecs_genome_bounds_below
 *		The entries of codes[n][ECS_GI_CODES] whose integer bound is at
 *		most cut, in slot order: slot numbers in idx[], bounds in out[]
 *		(each with room for n).  Returns their number.
 */
int
ecs_genome_bounds_below(const EcsGenomeQuery *q, const uint8 *codes, int n, uint32 cut,
						uint32 *out, uint16 *idx)
{
#ifdef ECS_HAVE_AVX2_KERNEL
	if (ecs_genome_index_simd && cpu_has_avx2())
		return below_avx2(q, codes, n, cut, out, idx);
#endif
	return below_scalar(q, codes, n, cut, out, idx);
}

PG_FUNCTION_INFO_V1(ecs_genome_kernel_check);

/* one test case of ecs_genome_kernel_check: both kernels at one cut */
static int64
kernel_case(const EcsGenomeQuery *q, const uint8 *codes, const uint8 *fast, int n, uint32 cut,
			uint32 *out1, uint16 *idx1, uint32 *out2, uint16 *idx2)
{
	EcsGenomeFastLut lut;
	int			m1,
				m2,
				i;
	int64		bad = 0;

	lut.scale = 0;
	m1 = ecs_genome_fast_below(q, &lut, fast, codes, n, cut, out1, idx1);
	m2 = below_scalar(q, codes, n, cut, out2, idx2);
	if (m1 != m2)
		return Max(m1, m2);
	for (i = 0; i < m1; i++)
		if (out1[i] != out2[i] || idx1[i] != idx2[i])
			bad++;
	return bad;
}

/*
 * ecs_genome_kernel_check(seed int8, entries int4) RETURNS int8
 *		Self-test of the bound kernels on random codes: 64 random queries
 *		(targets inside and past [0,1], zero and dominant weights), each at
 *		cuts from 0 to past every bound, the fast scan (ecs_genome_fast_below)
 *		and the AVX2 kernel against the scalar one, which must return the
 *		same entries with the same bounds.  Returns the number of
 *		disagreements (0).  The kernels run as ecs_agents.genome_index_simd
 *		says.  22023 unless 1 <= entries <= 65536.
 */
Datum
ecs_genome_kernel_check(PG_FUNCTION_ARGS)
{
	uint64		seed = (uint64) PG_GETARG_INT64(0);
	int32		n = PG_GETARG_INT32(1);
	uint8	   *codes,
			   *fast;
	uint32	   *out1,
			   *out2,
			   *all;
	uint16	   *idx1,
			   *idx2;
	double		target[ECS_GI_CODES],
				weight[ECS_GI_CODES];
	int64		bad = 0;
	uint64		r = 0;
	int			i,
				t,
				qn;

	if (n < 1 || n > 65536)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("entries must be between 1 and 65536")));
	codes = palloc((Size) n * ECS_GI_CODES);
	fast = palloc((Size) ECS_GI_FAST_BLOCKS(n) * ECS_GI_FAST_BYTES);
	out1 = palloc(sizeof(uint32) * n);
	out2 = palloc(sizeof(uint32) * n);
	all = palloc(sizeof(uint32) * n);
	idx1 = palloc(sizeof(uint16) * n);
	idx2 = palloc(sizeof(uint16) * n);
	/* codes: uniform bytes, one entry in 16 at the extremes 0 and 255 */
	for (i = 0; i < n * ECS_GI_CODES; i++)
	{
		uint64		x = ecs_random_u64(seed, r++);

		codes[i] = (x % 16 == 0) ? ((x >> 8) % 2 ? 255 : 0) : (uint8) (x >> 16);
	}
	ecs_genome_fast_pack(codes, n, fast);

	for (qn = 0; qn < 64; qn++)
	{
		EcsGenomeQuery q;
		uint32		cuts[10];
		int			c;

		CHECK_FOR_INTERRUPTS();
		for (t = 0; t < ECS_GI_CODES; t++)
		{
			double		u = ecs_random_unit(seed, r++);

			target[t] = (qn % 8 == 1) ? (u < 0.5 ? -0.25 : 1.25) : ecs_random_unit(seed, r++);
			weight[t] = (qn % 8 == 2 && u < 0.3) ? 0.0 : 0.1 + ecs_random_unit(seed, r++);
			if (qn % 8 == 3 && t == 5)
				weight[t] = 1000.0;
			if (qn % 8 == 4)
				target[t] = (double) codes[(Size) (qn % n) * ECS_GI_CODES + t] / 255.0;
		}
		q.n = ECS_GI_CODES;
		q.target = target;
		q.weight = weight;
		q.wsum = 0.0;
		for (t = 0; t < ECS_GI_CODES; t++)
			q.wsum += weight[t];
		ecs_genome_query_codes(&q);

		/* cuts: 0, the 1st, 5th, 64th, 1% and half-way bounds, the largest, beyond */
		for (i = 0; i < n; i++)
			all[i] = bound_one(&q, codes + (Size) i * ECS_GI_CODES);
		qsort(all, n, sizeof(uint32), cmp_uint32);
		cuts[0] = 0;
		cuts[1] = all[0];
		cuts[2] = all[Min(4, n - 1)];
		cuts[3] = all[Min(63, n - 1)];
		cuts[4] = all[n / 100];
		cuts[5] = all[n / 2];
		cuts[6] = all[n - 1];
		cuts[7] = all[n - 1] + 1;
		cuts[8] = all[Min(63, n - 1)] + 1;
		cuts[9] = PG_UINT32_MAX;
		for (c = 0; c < lengthof(cuts); c++)
		{
			/* the whole range, then a tail that ends inside a block */
			bad += kernel_case(&q, codes, fast, n, cuts[c], out1, idx1, out2, idx2);
			if (n > 40)
				bad += kernel_case(&q, codes, fast, n - 7, cuts[c], out1, idx1, out2, idx2);
#ifdef ECS_HAVE_AVX2_KERNEL
			if (ecs_genome_index_simd && cpu_has_avx2())
			{
				int			m1 = below_avx2(&q, codes, n, cuts[c], out1, idx1);
				int			m2 = below_scalar(&q, codes, n, cuts[c], out2, idx2);

				if (m1 != m2 || memcmp(out1, out2, sizeof(uint32) * m1) != 0 ||
					memcmp(idx1, idx2, sizeof(uint16) * m1) != 0)
					bad++;
			}
#endif
		}
	}
	PG_RETURN_INT64(bad);
}
