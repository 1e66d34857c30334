//! Formulas as MathML, rendered by the browser with the bundled math font. Static formulas come
//! from `build.rs` (`crate::formulas`); formulas with live numbers are assembled here.

use leptos::prelude::*;

/// A display formula. `mathml` is trusted markup produced by `build.rs` or by [`MathMl`].
#[component]
pub fn Formula(
    #[prop(into)] mathml: Signal<String>,
    #[prop(optional)] testid: &'static str,
) -> impl IntoView {
    view! { <div class="formula" data-testid=testid inner_html=move || mathml.get()></div> }
}

/// A tiny MathML builder for formulas with live numbers. Text is escaped, so numbers and labels
/// from user data cannot inject markup.
#[derive(Clone, Debug, Default)]
pub struct MathMl(String);

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl MathMl {
    pub fn mi(s: &str) -> Self {
        MathMl(format!("<mi>{}</mi>", esc(s)))
    }
    /// An upright multi-letter name such as Clip or round.
    pub fn name(s: &str) -> Self {
        MathMl(format!("<mi mathvariant=\"normal\">{}</mi>", esc(s)))
    }
    pub fn mn(s: &str) -> Self {
        // A negative number reads better as an operator and a digit string.
        match s.strip_prefix('-') {
            Some(rest) => MathMl(format!("<mrow><mo>−</mo><mn>{}</mn></mrow>", esc(rest))),
            None => MathMl(format!("<mn>{}</mn>", esc(s))),
        }
    }
    pub fn mo(s: &str) -> Self {
        MathMl(format!("<mo>{}</mo>", esc(s)))
    }
    /// A little horizontal space between two parts of one line.
    pub fn mspace() -> Self {
        MathMl("<mspace width=\"1em\"></mspace>".into())
    }
    pub fn text(s: &str) -> Self {
        MathMl(format!("<mtext>{}</mtext>", esc(s)))
    }
    pub fn row(items: impl IntoIterator<Item = MathMl>) -> Self {
        MathMl(format!(
            "<mrow>{}</mrow>",
            items.into_iter().map(|m| m.0).collect::<String>()
        ))
    }
    pub fn frac(num: MathMl, den: MathMl) -> Self {
        MathMl(format!("<mfrac>{}{}</mfrac>", num.0, den.0))
    }
    pub fn sub(base: MathMl, sub: MathMl) -> Self {
        MathMl(format!("<msub>{}{}</msub>", base.0, sub.0))
    }
    pub fn paren(inner: MathMl) -> Self {
        MathMl::row([MathMl::mo("("), inner, MathMl::mo(")")])
    }
    /// A colour-highlighted part (class styled in CSS).
    pub fn highlight(inner: MathMl, class: &str) -> Self {
        MathMl(format!("<mrow class=\"{}\">{}</mrow>", esc(class), inner.0))
    }
    /// The finished `<math display="block">` element.
    pub fn block(self) -> String {
        format!("<math display=\"block\">{}</math>", self.0)
    }
    pub fn inline(self) -> String {
        format!("<math>{}</math>", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text() {
        assert_eq!(MathMl::mi("<x>").0, "<mi>&lt;x&gt;</mi>");
        assert!(MathMl::mn("-1.5").0.contains("−"));
    }
}
