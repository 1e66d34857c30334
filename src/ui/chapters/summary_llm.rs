//! The summary's language-model column: each method of the table on all 210 linears of
//! SmolLM2, measured as the papers measure it — the perplexity of the language-model
//! chapter's paragraph (and the mean KL to full precision) — once the reader has loaded the
//! model there or here.

use leptos::prelude::*;

use quantlab_app::i18n::Msg;
use quantlab_engine::model::ModelQuant;

use super::llm_run::{Event, TextRun};
use super::llm_views::ppl_text;
use crate::ui::job::Job;
use crate::ui::llm::{use_lm, LmState};
use crate::ui::state::{use_app, AppState};

/// One row's result: perplexity and KL, or why there is none.
pub type LlmCell = Result<(f64, f64), String>;

/// Per table row (in order): the setting the row stands for on the LLM, or why it has none.
pub type LlmPlan = Vec<Result<ModelQuant, Msg>>;

#[derive(Clone, Copy)]
pub struct LlmColumn {
    cells: RwSignal<Vec<Option<LlmCell>>>,
    pub job: Job,
}

impl LlmColumn {
    pub fn new(app: AppState, plan: Memo<LlmPlan>) -> Self {
        let lm = use_lm();
        let model = Memo::new(move |_| lm.state.with(LmState::model));
        let col = LlmColumn {
            cells: RwSignal::new(Vec::new()),
            job: Job::new(),
        };
        Effect::new(move |_| {
            let (Some(m), plan) = (model.get(), plan.get()) else {
                col.job.cancel();
                return;
            };
            let mut ids = app.ctl(|c| m.file.tokenizer.encode(&c.llm.text).ids);
            ids.truncate(quantlab_app::llm::texts::MAX_TOKENS);
            let lang = app.lang_untracked();
            let cells = col.cells;
            cells.set(
                plan.iter()
                    .map(|p| p.as_ref().err().map(|why| Err(why.text(lang).to_string())))
                    .collect(),
            );
            // (row, its run) for the rows that run, the next one last.
            let mut todo: Vec<(usize, ModelQuant)> = plan
                .iter()
                .enumerate()
                .filter_map(|(i, p)| Some((i, p.clone().ok()?)))
                .collect();
            todo.reverse();
            let units = TextRun::setting_units(&m) * todo.len();
            let store = lm;
            col.job.fold(
                (None::<(usize, TextRun)>, todo),
                units,
                move |(cur, todo), _| {
                    let set = |i: usize, c: LlmCell| {
                        cells.update(|v| {
                            if let Some(slot) = v.get_mut(i) {
                                *slot = Some(c);
                            }
                        })
                    };
                    let Some((i, run)) = cur.as_mut() else {
                        let Some((i, cfg)) = todo.pop() else { return };
                        match TextRun::new(m.clone(), store, ids.clone(), Some(cfg), false) {
                            Ok(r) => *cur = Some((i, r)),
                            Err(e) => set(i, Err(e)),
                        }
                        return;
                    };
                    let i = *i;
                    match run.advance() {
                        Ok(Event::Quant(q)) => {
                            set(i, Ok((q.scores.ppl, q.scores.kl.unwrap_or(f64::NAN))));
                            *cur = None;
                        }
                        Ok(_) if run.is_done() => *cur = None,
                        Ok(_) => {}
                        Err(e) => {
                            set(i, Err(e));
                            *cur = None;
                        }
                    }
                },
                |_| {},
            );
        });
        col
    }

    /// Row `i`'s cell, as the table shows it.
    pub fn view(self, i: usize) -> impl IntoView {
        let app = use_app();
        let lm = use_lm();
        let cell = move || self.cells.with(|c| c.get(i).cloned().flatten());
        view! {
            <td data-testid=format!("summary-llm-{i}") title=move || cell().and_then(|c| c.err()).unwrap_or_default()
                data-ppl=move || cell().and_then(|c| c.ok()).map(|(p, _)| format!("{p:.6}"))>
                {move || match cell() {
                    Some(Ok((ppl, kl))) => view! {
                        {ppl_text(ppl)}<br/>
                        <span class="muted small">{Msg::SumLlmDetail.fill(app.lang(), &[&format!("{kl:.3}")])}</span>
                    }.into_any(),
                    Some(Err(_)) => "—".into_any(),
                    None => if lm.state.with(|s| s.model().is_some()) { "…".into_any() } else { "—".into_any() },
                }}
            </td>
        }
    }

    /// What the column measures, or how to get it.
    pub fn note(self) -> impl IntoView {
        let app = use_app();
        let lm = use_lm();
        view! {
            <p class="muted small" data-testid="summary-llm-note">
                {move || app.t(if lm.state.with(|s| s.model().is_some()) { Msg::SumLlmNote } else { Msg::SumLlmMissing })}
                " "
                <Show when=move || lm.state.with(|s| matches!(s, LmState::Idle | LmState::Failed(_) | LmState::Cancelled))>
                    <button type="button" class="tool small" data-testid="summary-llm-load" on:click=move |_| lm.load()>
                        {move || Msg::LlmLoad.fill(app.lang(), &["98"])}
                    </button>
                </Show>
                <Show when=move || self.job.running() || lm.state.with(LmState::busy)>
                    <span class="loading"><span class="spinner" aria-hidden="true"></span>{move || app.t(Msg::Computing)}</span>
                </Show>
            </p>
        }
    }
}
