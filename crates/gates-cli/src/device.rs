//! The one place that picks the compute device: CUDA with the `cuda` feature, else the CPU.

use anyhow::Result;
use gates_models::DefaultDevice;

/// The device to train on.
#[cfg(not(feature = "cuda"))]
pub fn device() -> Result<DefaultDevice> {
    Ok(DefaultDevice::default())
}

/// The device to train on: GPU 0.
#[cfg(feature = "cuda")]
pub fn device() -> Result<DefaultDevice> {
    DefaultDevice::try_build(0, 0).map_err(|e| anyhow::anyhow!("cannot open CUDA device 0: {e:?}"))
}

/// A short name of the device, for messages.
pub fn name() -> &'static str {
    if cfg!(feature = "cuda") {
        "cuda:0"
    } else {
        "cpu"
    }
}
