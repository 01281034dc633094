import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """QD runs are many small batched matmuls, far faster on one thread on a shared CPU; restored after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
