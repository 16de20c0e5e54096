//! Status colours after HAProxy's stats page: UP green, DOWN red, transitional
//! (`UP 1/3`, `DOWN 1/2`) yellow, DRAIN/NOLB blue, MAINT grey.

use std::io::IsTerminal;

#[derive(Debug, Clone, Copy)]
pub struct Palette {
    on: bool,
}

const RESET: &str = "\x1b[0m";

impl Palette {
    /// Colour only on a terminal, and never with `--no-color` or `NO_COLOR` set.
    pub fn detect(no_color: bool) -> Palette {
        let env_off = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Palette {
            on: !no_color && !env_off && std::io::stdout().is_terminal(),
        }
    }

    pub fn plain() -> Palette {
        Palette { on: false }
    }

    pub fn is_on(&self) -> bool {
        self.on
    }

    /// `text` padded to `width` columns, coloured by what status it is.
    pub fn status(&self, text: &str, width: usize) -> String {
        let padded = format!("{text:<width$}");
        match (self.on, code_for(text)) {
            (true, Some(code)) => format!("{code}{padded}{RESET}"),
            _ => padded,
        }
    }

    pub fn bold(&self, text: &str) -> String {
        if self.on {
            format!("\x1b[1m{text}{RESET}")
        } else {
            text.to_owned()
        }
    }

    pub fn red(&self, text: &str) -> String {
        if self.on {
            format!("\x1b[31m{text}{RESET}")
        } else {
            text.to_owned()
        }
    }
}

fn code_for(status: &str) -> Option<&'static str> {
    let green = "\x1b[32m";
    let red = "\x1b[31m";
    let yellow = "\x1b[33m";
    let blue = "\x1b[34m";
    let grey = "\x1b[90m";
    let word = status.split_whitespace().next().unwrap_or("");
    let transitional = status.contains('/') && !status.contains('(');
    Some(match word {
        "MAINT" => grey,
        "DRAIN" | "NOLB" => blue,
        "UP" | "DOWN" if transitional => yellow,
        "UP" | "OPEN" | "no" => green, // `no check` is UP without checks
        "DOWN" | "STOP" => red,
        "PAUSED" => yellow,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_like_the_stats_page() {
        let p = Palette { on: true };
        assert!(p.status("UP", 4).starts_with("\x1b[32mUP  "));
        assert!(p.status("DOWN", 4).starts_with("\x1b[31m"));
        assert!(p.status("UP 1/3", 6).starts_with("\x1b[33m"));
        assert!(p.status("DOWN 1/2", 8).starts_with("\x1b[33m"));
        assert!(p.status("DRAIN", 5).starts_with("\x1b[34m"));
        assert!(p.status("NOLB", 5).starts_with("\x1b[34m"));
        assert!(p.status("MAINT", 5).starts_with("\x1b[90m"));
        assert!(p.status("MAINT (via b/s)", 5).starts_with("\x1b[90m"));
        assert_eq!(Palette::plain().status("UP", 4), "UP  ");
    }
}
