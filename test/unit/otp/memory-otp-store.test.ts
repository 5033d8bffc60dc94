import { MemoryOtpStore } from "../../../core/otp/memory-otp-store.js";
import { runOtpStoreContract } from "../../../core/testing/otp-store-contract.js";
import { vitestRunner } from "../../helpers/vitest-runner.js";

runOtpStoreContract("memory", async () => new MemoryOtpStore(), vitestRunner);
