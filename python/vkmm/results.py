"""What calls return besides plain text: chat results with usage and log-probabilities, model and device
descriptions, the catalog of model names."""

from dataclasses import dataclass, field
from typing import List, Optional


@dataclass(frozen=True)
class Usage:
    """Token counts of one generation, as OpenAI reports them. prompt_tokens counts every position of the prompt
    (an image's embedding rows included), also those a session's cache held from earlier turns."""
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@dataclass(frozen=True)
class TopLogprob:
    """One of the most likely tokens at a position: its text (control tokens as their name), id, natural-log
    probability under the model (before temperature and other sampling transforms) and raw bytes."""
    token: str
    id: int
    logprob: float
    bytes: bytes


@dataclass(frozen=True)
class TokenLogprob:
    """A generated token with its log-probability and, when asked for, the top alternatives (most likely first)."""
    token: str
    id: int
    logprob: float
    bytes: bytes
    top_logprobs: List[TopLogprob] = field(default_factory=list)


@dataclass(frozen=True)
class ChatResult:
    """The answer of MultimodalModel.chat / Session.chat. finish_reason is "stop" (the model ended its turn or
    a stop string came) or "length" (max_tokens, or the context is full). tokens are the generated ids (an
    end-of-turn token included when it ended the answer); logprobs is None unless asked for."""
    text: str
    finish_reason: str
    usage: Usage
    tokens: List[int]
    logprobs: Optional[List[TokenLogprob]] = None

    def __str__(self):
        return self.text


@dataclass(frozen=True)
class ModelInfo:
    """What a loaded model is: architecture ("gemma3", "mistral3", ...), general.name, chat template in use,
    the device it runs on, sizes, whether it takes images, device bytes of its weights, and where it came from."""
    arch: str
    name: str
    chat_template: str
    device: str
    n_layer: int
    n_embd: int
    n_vocab: int
    n_ctx_train: int
    has_vision: bool
    weight_bytes: int
    model_path: str
    mmproj_path: Optional[str]
    manifest: Optional[str]
    n_ctx: int
    n_expert: int = 0          # a mixture of experts: experts per layer (0: dense)
    n_expert_used: int = 0     # ... and how many each token uses


@dataclass(frozen=True)
class Device:
    """A Vulkan device as vkmm probed it (the fields of `vkmm devices --json`)."""
    index: int
    name: str
    vendor: str
    kind: str
    driver_name: str
    driver_info: str
    api_version: str
    subgroup_size: int
    fp16: bool
    int8: bool
    coopmat_nv: bool
    coopmat_khr: bool
    shared_memory: int
    max_storage_buffer_range: int
    max_allocation_size: int
    device_local_bytes: int
    heaps: List[dict]
    usable: bool
    unusable_reason: str


@dataclass(frozen=True)
class KnownModel:
    """A model name the search path knows (`vkmm models`): its manifest, Hugging Face repository, the files it
    names and where they were found (None when missing)."""
    name: str
    manifest: str
    description: str
    huggingface: Optional[str]
    model_file: Optional[str]
    mmproj_file: Optional[str]
    model_path: Optional[str]
    mmproj_path: Optional[str]
    present: bool
    problem: Optional[str]
