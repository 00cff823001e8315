"""The help page's text: tokens, the context window, sampling, GPU layers and quantization in plain words.

Fixed HTML written for Hearth; it names no style sheet or other outside resource. Its only images are
the pictures Hearth ships (`PICTURES`, in resources/), which help_page.py hands the browser itself.
Each section starts with an anchor (`SECTIONS`) so a "What's this?" button can open the page there.
"""

from __future__ import annotations

# the pictures the text shows: <img src="NAME">, each a shipped file resources/NAME (help_page.py loads them)
PICTURES = ("help-draft-tokens.png", "help-prompt-tokens.png", "help-sampling-chart.png")

# anchor -> heading, in the order the page shows them
SECTIONS: dict[str, str] = {
    "tokens": "Tokens",
    "context": "The context window",
    "max-tokens": "Max tokens",
    "sampling": "How the next token is picked",
    "temperature": "Temperature",
    "top-p": "Top-p",
    "top-k": "Top-k",
    "min-p": "Min-p",
    "repeat-penalty": "Repeat penalty",
    "seed": "Seed",
    "see-sampling": "Seeing tokens and sampling for yourself",
    "gpu-layers": "GPU layers and offload",
    "quantization": "Quantization",
}

_BODIES: dict[str, str] = {
    "tokens": """
<p>A model does not read letters or whole words: it reads <b>tokens</b>, pieces of text from a fixed
vocabulary it learned in training. A common word is often one token; a rare word, a name or a number
is split into several. In English a token is on average about three quarters of a word, so 1,000 tokens
are roughly 750 words. Code, other languages and emoji usually take more tokens per word.</p>
<p>A model writes its reply one token at a time. Speed is therefore measured in tokens per second, and
every limit below (context size, max tokens) is counted in tokens.</p>
<p>See it for yourself: press <b>Tokens</b> beside the message box and what you type is shown split
into the loaded model's tokens as you type, in alternating colours, with spaces as · and line breaks
as ↵ (a space usually belongs to the word after it). Hover a token for its id, the number the model
really reads. Each model has its own vocabulary, so the same text splits differently in another model.</p>
<p><img src="help-draft-tokens.png"></p>
<p>Any message's right-click menu has <b>Show tokens</b> too, and Chat → Show prompt has a <b>Tokens</b>
tab: the whole prompt exactly as the model gets it, where the chat template's special tokens (such as
<code>&lt;|im_start|&gt;</code>, which mark who is speaking) stand out in bold. Text you type is never
turned into one of them.</p>
<p><img src="help-prompt-tokens.png"></p>
""",
    "context": """
<p>The <b>context window</b> is everything the model can see at once, counted in tokens. For each
reply it holds:</p>
<ul>
<li>the <b>system prompt</b> (how the model should behave in this chat),</li>
<li>the <b>history</b>: every earlier message and reply of the chat, with the few tokens the chat
template adds around each one,</li>
<li>the <b>reply</b> being written: each new token takes a place in the window too.</li>
</ul>
<p>The meter under the chat shows how full it is, counted with the model's own tokenizer: blue is fine,
amber is near the limit, red is full. The context size is chosen when a model is loaded (Settings next
to Load); a larger context lets longer chats fit but needs more memory.</p>
<p><b>When it is full</b>, something has to give. The chat's "When full" setting decides what:
drop messages from the middle (the system prompt and the newest messages stay), drop the oldest turns
(a rolling window), or stop and say so without dropping anything. A model never remembers what was
dropped: it only knows what is in the window for this reply.</p>
""",
    "max-tokens": """
<p><b>Max tokens</b> caps how long one reply may get. The reply stops there even in mid-sentence
(the stop reason says "length"). 0 means no cap: the reply runs until the model ends it or the
context window is full.</p>
""",
    "see-sampling": """
<p>Every reply can show what the model saw and weighed. Press <b>Tokens</b> on a reply: its text is
shown split into the model's tokens (spaces as ·, line breaks as ↵), each tinted by how sure the
model was of it: clear when it was sure, orange to red when it hesitated. Hover a token to see the
alternatives it weighed there, or click it to list them with their probabilities.</p>
<p>The probabilities are the model's own, before any sampling setting: a softmax of its raw scores,
as llama-server's <code>logprobs</code> reports them. That is why a picked token can have less than the
top probability: the repeat penalty or the draw chose it. <b>What if…</b> beside an alternative writes
the reply again from that token with the alternative picked; the new reply is another alternative of
the old one (‹ 2/2 ›), with the token you chose in blue. <b>Sampling chart…</b> shows the candidates as
bars: grey what the model weighed, blue the chance of each being picked with the temperature, top-k,
top-p, min-p and repeat penalty below it, redrawn as you change them. They are the chat's own settings:
moving a slider in the side panel reshapes the bars at once, and a number changed in the chart changes
the chat's (and its next reply). Try temperature 0 (the best always wins), 1.5 (the bars flatten), or
top-k 1.</p>
<p>The chart asks the model again for its 20 best candidates at that token (a moment's work: the
start of the reply is still in its memory); the last bar is every other token of its vocabulary
together. A struck-out candidate was cut, and the words in brackets say by which setting. In the
picture top-k 8 keeps eight, top-p 0.95 then drops two more, and temperature 0.8 makes the likeliest
even likelier. <b>Next token…</b> beside your message's tokens draws the same chart for the first
token of the reply your message would get.</p>
<p><img src="help-sampling-chart.png"></p>
<p>Replies keep their top 5 alternatives per token (about 160 KB per 1,000 tokens); Chat → Keep token
probabilities turns that off. The API server answers <code>logprobs</code> and <code>top_logprobs</code> the way
OpenAI's does, and <code>hearth chat --json --logprobs 5</code> prints them.</p>
""",
    "sampling": """
<p>For every next token the model gives each token of its vocabulary a probability. <b>Sampling</b>
picks one of them. The settings below first cut the list down to the plausible candidates (top-k,
top-p, min-p), then temperature decides how boldly to choose among them. The presets set them all
at once: Precise for facts and code, Balanced for everyday use, Creative for stories and ideas.</p>
""",
    "temperature": """
<p><b>Temperature</b> is how adventurous the choice is. At 0 the model always takes the likeliest token:
the same question gets the same answer every time. Around 0.7 replies vary but stay on topic. Above 1
unlikely tokens get picked more often: more surprising, and more often wrong or rambling.</p>
""",
    "top-p": """
<p><b>Top-p</b> (nucleus sampling) keeps the smallest set of likeliest tokens whose probabilities add
up to p, and drops the rest. 0.95 drops only the long tail of very unlikely tokens; 0.5 keeps just the
few best candidates. 1 turns it off.</p>
""",
    "top-k": """
<p><b>Top-k</b> keeps only the k likeliest tokens, whatever their probabilities. 40 is a common choice;
1 always takes the likeliest token (like temperature 0); 0 turns the limit off.</p>
""",
    "min-p": """
<p><b>Min-p</b> drops every token less likely than a fraction of the likeliest one. With min-p 0.05
and a top token at 60%, tokens below 3% are dropped. It adapts by itself: when the model is sure, few
candidates remain; when many tokens are plausible, many remain. 0 turns it off.</p>
""",
    "repeat-penalty": """
<p><b>Repeat penalty</b> makes tokens that appeared in the last few dozen tokens less likely, which
stops a model from going round in circles. 1 is off; 1.1 is gentle; much higher values make the model
avoid words it needs, such as names or code it has to repeat.</p>
""",
    "seed": """
<p>The <b>seed</b> starts the random choices. With the same seed, model, prompt and settings a sampled
reply comes out exactly the same again, which helps when comparing settings. -1 picks a new seed for
every reply.</p>
""",
    "gpu-layers": """
<p>A model is a stack of <b>layers</b> that every token passes through. <b>GPU layers</b> (offload)
says how many of them are put in the graphics card's memory and run there; the rest stay in main memory
and run on the CPU. A GPU runs them many times faster, so the more layers fit the faster the replies.</p>
<p>All layers on the GPU is fastest. Some on the GPU still helps. Too many for its memory and the load
fails or the system slows down: the memory also has to hold the context (the KV cache), which grows with
the context size. <b>Auto</b> puts as many layers on the GPU as fit its free memory. Without a GPU
backend everything runs on the CPU, which works, only slower.</p>
""",
    "quantization": """
<p>A model's weights are numbers. <b>Quantization</b> stores them with fewer bits, which makes the file
smaller, lets it fit in less memory and makes replies faster (a model is mostly limited by how fast its
weights can be read). The price is a little quality: the fewer the bits, the more the answers drift
from the original model.</p>
<ul>
<li><b>F16</b>: 16 bits per weight, the original quality; the largest and slowest file.</li>
<li><b>Q8_0</b>: about 8.5 bits per weight, about half the size of F16, practically the same quality.</li>
<li><b>Q4_K_M</b>: about 4.8 bits per weight, a bit over a quarter of F16; a small loss of quality
that is rarely noticed in chat. The usual choice.</li>
</ul>
<p>Below about 4 bits (Q3, Q2) quality drops quickly, most of all for small models. A larger model at Q4
usually answers better than a smaller model at Q8 of the same file size.</p>
""",
}


def help_html() -> str:
    """The whole page: a list of contents, then each section after its anchor."""
    contents = " · ".join(f'<a href="#{anchor}">{title}</a>' for anchor, title in SECTIONS.items())
    sections = "".join(f'<a name="{anchor}"></a><h2>{title}</h2>{_BODIES[anchor]}'
                       for anchor, title in SECTIONS.items())
    return (f'<a name="top"></a><h1>Tokens, context and sampling</h1><p>{contents}</p>{sections}'
            '<p><a href="#top">Back to the top</a></p>')

# the load settings' GPU tips (widgets/load_settings.py)
NO_BACKEND_TIP = (
    "The installed llama.cpp has no GPU backend, so everything runs on the CPU. "
    "Rebuild llama-cpp-python with GPU support to use these (see README: GPU support)."
)
GPU_TIP = "How many of the model's layers run on the GPU; the rest run on the CPU (more is faster)"
GPU_AUTO_TIP = "Put as many layers on the GPU as fit in its free memory"
