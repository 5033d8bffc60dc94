import { vitestRunner } from "../../helpers/vitest-runner.js";
import { runOtpStoreContract } from "../../../core/testing/otp-store-contract.js";
import { MemoryOtpStore } from "../../../core/otp/memory-otp-store.js";

runOtpStoreContract("memory", async () => new MemoryOtpStore(), vitestRunner);
