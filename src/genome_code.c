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
#include "genome_index.h"

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
/* two entries of 16 codes per register; eight entries per turn */
__attribute__((target("avx2")))
static int
below_avx2(const EcsGenomeQuery *q, const uint8 *codes, int n, uint32 cut,
		   uint32 *out, uint16 *idx)
{
	__m256i		tq = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *) q->tq));
	__m256i		wq = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *) q->wq));
	__m256i		one8 = _mm256_set1_epi8(1);
	__m256i		one16 = _mm256_set1_epi16(1);
	__m256i		order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
	/* bounds are below 2^31: a signed compare with cut clamped is exact */
	__m256i		cutv = _mm256_set1_epi32((int32) Min(cut, (uint32) PG_INT32_MAX));
	int			i = 0,
				m = 0;

	for (; i + 8 <= n; i += 8)
	{
		__m256i		s[4];
		uint32		bounds[8];
		unsigned int mask;
		int			j;

		for (j = 0; j < 4; j++)
		{
			__m256i		c = _mm256_loadu_si256((const __m256i *) (codes + (Size) (i + 2 * j) * ECS_GI_CODES));
			__m256i		d = _mm256_sub_epi8(_mm256_max_epu8(c, tq), _mm256_min_epu8(c, tq));

			d = _mm256_subs_epu8(d, one8);
			s[j] = _mm256_madd_epi16(_mm256_maddubs_epi16(d, wq), one16);
		}
		/* lane 0 holds entries i, i+2, ..; lane 1 entries i+1, i+3, .. */
		s[0] = _mm256_hadd_epi32(s[0], s[1]);
		s[2] = _mm256_hadd_epi32(s[2], s[3]);
		s[0] = _mm256_hadd_epi32(s[0], s[2]);
		s[0] = _mm256_permutevar8x32_epi32(s[0], order);
		mask = ~(unsigned int) _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(s[0], cutv))) & 0xFF;
		if (mask == 0)
			continue;
		_mm256_storeu_si256((__m256i *) bounds, s[0]);
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
	static int	have_avx2 = -1;

	if (have_avx2 < 0)
		have_avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
	if (have_avx2 && ecs_genome_index_simd)
		return below_avx2(q, codes, n, cut, out, idx);
#endif
	return below_scalar(q, codes, n, cut, out, idx);
}
