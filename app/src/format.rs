//! Small, pure formatting helpers shared by the pages.

/// An amount of Stars, grouped: "1", "250", "10,000" (shown after a ⭐, in any language).
pub fn stars(amount: u32) -> String {
    let digits = amount.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    grouped
}

/// Human file sizes: "812 B", "14.2 KB", "3.5 MB".
pub fn bytes(size: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if size < 1024 {
        return format!("{size} B");
    }
    let mut value = size as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_are_grouped() {
        assert_eq!(stars(1), "1");
        assert_eq!(stars(250), "250");
        assert_eq!(stars(10_000), "10,000");
        assert_eq!(stars(1_234_567), "1,234,567");
    }

    #[test]
    fn sizes_pick_a_readable_unit() {
        assert_eq!(bytes(812), "812 B");
        assert_eq!(bytes(14_541), "14.2 KB");
        assert_eq!(bytes(3 * 1024 * 1024 + 512 * 1024), "3.5 MB");
    }
}
