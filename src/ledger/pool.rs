//! Splitting a shared cost into exact shares: each share is the amount times
//! its weight over the sum of the weights, rounded down to the micro-unit,
//! and the micro-units left over go one each to the largest remainders
//! (ties to the share listed first). The shares always sum to the amount.

/// The shares of `micros` in proportion to `weights` (at least one weight
/// above zero; none negative). A zero weight gets nothing.
pub fn split(micros: i64, weights: &[u128]) -> Option<Vec<i64>> {
    let total: u128 = weights
        .iter()
        .try_fold(0u128, |sum, w| sum.checked_add(*w))?;
    if total == 0 {
        return None;
    }
    let amount = i128::from(micros);
    let mut shares = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    for (i, weight) in weights.iter().enumerate() {
        // A product that does not fit in i128 (weights beyond any real
        // spend) refuses the split rather than rounding it.
        let product = amount.checked_mul(i128::try_from(*weight).ok()?)?;
        let total = i128::try_from(total).ok()?;
        shares.push(product.div_euclid(total));
        remainders.push((product.rem_euclid(total), i));
    }
    let given: i128 = shares.iter().sum();
    let left = usize::try_from(amount - given).ok()?;
    // Largest remainder first; equal remainders in listed order.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in remainders
        .into_iter()
        .filter(|(_, i)| weights[*i] > 0)
        .take(left)
    {
        shares[i] += 1;
    }
    shares.into_iter().map(|s| i64::try_from(s).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn even_thirds_give_the_extra_micro_units_to_the_first() {
        assert_eq!(split(100, &[1, 1, 1]), Some(vec![34, 33, 33]));
        assert_eq!(split(30_000_000, &[1, 1, 1]), Some(vec![10_000_000; 3]));
    }

    #[test]
    fn largest_remainder_wins_the_leftover() {
        // 10 × 1/6 = 1.67, 10 × 2/6 = 3.33, 10 × 3/6 = 5: the 0.67 gets it.
        assert_eq!(split(10, &[1, 2, 3]), Some(vec![2, 3, 5]));
    }

    #[test]
    fn zero_weights_get_nothing_and_all_zero_is_refused() {
        assert_eq!(split(7, &[0, 1, 0]), Some(vec![0, 7, 0]));
        assert_eq!(split(7, &[0, 0]), None);
        assert_eq!(split(7, &[]), None);
    }

    #[test]
    fn a_negative_amount_splits_exactly_too() {
        let shares = split(-100, &[1, 1, 1]).unwrap();
        assert_eq!(shares.iter().sum::<i64>(), -100);
        assert!(shares.iter().all(|s| (-34..=-33).contains(s)));
    }

    proptest! {
        #[test]
        fn shares_sum_to_the_amount_and_follow_the_weights(
            micros in 1i64..1_000_000_000_000_000,
            weights in proptest::collection::vec(0u128..1_000_000_000_000_000_000, 1..60),
        ) {
            prop_assume!(weights.iter().any(|w| *w > 0));
            let shares = split(micros, &weights).unwrap();
            prop_assert_eq!(shares.len(), weights.len());
            prop_assert_eq!(shares.iter().sum::<i64>(), micros);
            let total: u128 = weights.iter().sum();
            for (share, weight) in shares.iter().zip(&weights) {
                // Each share is its exact part rounded down or up.
                let exact_floor = (i128::from(micros) * *weight as i128) / total as i128;
                prop_assert!(i128::from(*share) == exact_floor || i128::from(*share) == exact_floor + 1);
                if *weight == 0 {
                    prop_assert_eq!(*share, 0);
                }
            }
        }

        #[test]
        fn even_shares_differ_by_at_most_one_micro_unit(
            micros in 1i64..1_000_000_000_000_000,
            projects in 1usize..200,
        ) {
            let shares = split(micros, &vec![1; projects]).unwrap();
            prop_assert_eq!(shares.iter().sum::<i64>(), micros);
            let (min, max) = (shares.iter().min().unwrap(), shares.iter().max().unwrap());
            prop_assert!(max - min <= 1);
        }
    }
}
